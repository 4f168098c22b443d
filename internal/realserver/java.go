package realserver

import (
	"bufio"
	"context"
	_ "embed"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// javaServerSource is TLSServer.java: a JSSE SSLServerSocket with every
// protocol and suite the JDK supports enabled, compiled at start.
//
//go:embed javaserver/TLSServer.java
var javaServerSource []byte

// javaKeystorePass is the password of the Java server's throwaway keystore.
const javaKeystorePass = "realserver"

// javaKeys are the keystore's entries, made with keytool: an RSA, an EC
// and a DSA key, each with a self-signed certificate for CertHost, so that
// the JDK can complete the RSA, ECDSA and DSS suites (JSSE chooses a suite
// before it looks for a key of that type, and fails the handshake with
// internal_error when it has none).
var javaKeys = []struct {
	alias, alg string
	size       [2]string // keytool's flag for the key's size or curve
	sigalg     string
}{
	{"rsa", "RSA", [2]string{"-keysize", "2048"}, "SHA256withRSA"},
	{"ec", "EC", [2]string{"-groupname", "secp256r1"}, "SHA256withECDSA"},
	{"dsa", "DSA", [2]string{"-keysize", "2048"}, "SHA256withDSA"},
}

// javaTLSSettings are the java.security properties the Java server's
// private copy of the JDK's file sets anew: nothing disabled for TLS
// (SSLv3, TLS 1.0 and 1.1, RC4, DES, 3DES, NULL, anon, small DH and EC
// keys are all in JDK 17's default jdk.tls.disabledAlgorithms) and
// nothing for certificate paths.
var javaTLSSettings = []string{"jdk.tls.disabledAlgorithms", "jdk.certpath.disabledAlgorithms"}

// JavaHome returns the JDK's home: the directory above bin/java, from
// PATH with its symbolic links resolved (Debian's /usr/bin/java is one to
// /usr/lib/jvm/…/bin/java).
func JavaHome() (string, error) {
	p, err := exec.LookPath("java")
	if err != nil {
		return "", fmt.Errorf("realserver: %w", err)
	}
	p, err = filepath.EvalSymlinks(p)
	if err != nil {
		return "", fmt.Errorf("realserver: %w", err)
	}
	return filepath.Dir(filepath.Dir(p)), nil
}

// javaCommand compiles TLSServer.java into dir, makes its keystore and its
// java.security file there and returns the command that runs it on addr.
func javaCommand(ctx context.Context, dir, addr string) (*exec.Cmd, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	home, err := JavaHome()
	if err != nil {
		return nil, err
	}
	classes := filepath.Join(dir, "javaclasses")
	if _, err := os.Stat(filepath.Join(classes, "TLSServer.class")); err != nil {
		src := filepath.Join(dir, "TLSServer.java")
		if err := os.WriteFile(src, javaServerSource, 0o644); err != nil {
			return nil, err
		}
		if _, err := run(ctx, dir, "javac", "-d", classes, src); err != nil {
			return nil, err
		}
	}
	ks := filepath.Join(dir, "keystore.p12")
	if _, err := os.Stat(ks); err != nil {
		for _, k := range javaKeys {
			if _, err := run(ctx, dir, "keytool", "-genkeypair", "-keystore", ks, "-storetype", "PKCS12",
				"-storepass", javaKeystorePass, "-keypass", javaKeystorePass, "-alias", k.alias,
				"-keyalg", k.alg, k.size[0], k.size[1], "-sigalg", k.sigalg,
				"-dname", "CN="+CertHost, "-ext", "SAN=dns:"+CertHost+",ip:127.0.0.1,ip:::1", "-validity", "30"); err != nil {
				return nil, err
			}
		}
	}
	master, err := os.ReadFile(filepath.Join(home, "conf", "security", "java.security"))
	if err != nil {
		return nil, fmt.Errorf("realserver: the JDK's java.security: %w", err)
	}
	secFile := filepath.Join(dir, "java.security")
	if err := os.WriteFile(secFile, []byte(javaSecurity(string(master))), 0o644); err != nil {
		return nil, err
	}
	// "==": this file replaces the JDK's instead of adding to it, so it is
	// the JDK's own with javaTLSSettings emptied.
	return exec.Command("java", "-Djava.security.properties=="+secFile, "-cp", classes,
		"TLSServer", host, port, ks, javaKeystorePass), nil
}

// javaSecurity is a java.security file (java.util.Properties syntax:
// a line ending in an odd number of backslashes goes on on the next) with
// every javaTLSSettings property removed and set empty at its end.
func javaSecurity(master string) string {
	var b strings.Builder
	skip, cont := false, false
	sc := bufio.NewScanner(strings.NewReader(master))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !cont {
			key := strings.TrimSpace(line)
			if i := strings.IndexAny(key, "=: \t"); i >= 0 {
				key = key[:i]
			}
			skip = false
			for _, k := range javaTLSSettings {
				if key == k {
					skip = true
				}
			}
			if c := strings.TrimSpace(line); strings.HasPrefix(c, "#") || strings.HasPrefix(c, "!") {
				// A comment line does not go on, whatever its end.
				b.WriteString(line + "\n")
				continue
			}
		}
		n := len(line) - len(strings.TrimRight(line, `\`))
		cont = n%2 == 1
		if !skip {
			b.WriteString(line + "\n")
		}
	}
	for _, k := range javaTLSSettings {
		b.WriteString(k + "=\n")
	}
	return b.String()
}
