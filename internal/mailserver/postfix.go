package mailserver

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/testenv"
)

// Postfix is a running Postfix instance.
type Postfix struct {
	// SMTP is the STARTTLS port (host:port). With PostfixOptions.SASL, AUTH
	// is offered before STARTTLS too (smtpd_tls_auth_only = no): the
	// plaintext-auth finding.
	SMTP string
	// SMTPAuthOnly is a second STARTTLS port offering AUTH only after TLS
	// (smtpd_tls_auth_only = yes); empty without PostfixOptions.SASL.
	SMTPAuthOnly string
	// SMTPS is the implicit-TLS port (smtpd_tls_wrappermode = yes).
	SMTPS string
	// Dir holds the configuration (conf/), the queue (queue/), the data
	// directory (data/) and the log (maillog).
	Dir string
}

// Banner is the greeting text both Postfix ports send after "220 ".
const Banner = "mx.tlsmap.test ESMTP Postfix"

// PostfixOptions configure StartPostfix.
type PostfixOptions struct {
	// SASL, when set, makes Postfix authenticate through this Dovecot's
	// auth socket (smtpd_sasl_type = dovecot), so that EHLO lists AUTH.
	SASL *Dovecot
	// TLSLogLevel sets smtpd_tls_loglevel (1 logs a "TLS connection
	// established" line with the version and cipher of each session;
	// Postfix's default, 0, logs none).
	TLSLogLevel int
}

// StartPostfix starts Postfix on three (two without SASL) loopback ports
// and stops it when the test ends. A missing postfix or openssl, or not
// being root, skips the test (fails it in CI).
func StartPostfix(t testing.TB, opts PostfixOptions) *Postfix {
	t.Helper()
	testenv.NeedProgram(t, "postfix")
	needRoot(t, "postfix")
	pf, err := user.Lookup("postfix")
	if err != nil {
		testenv.Missing(t, "no postfix user: "+err.Error())
	}
	uid, _ := strconv.Atoi(pf.Uid)
	gid, _ := strconv.Atoi(pf.Gid)
	for attempt := 0; ; attempt++ {
		p, err := startPostfix(t, opts, uid, gid)
		if err == nil {
			return p
		}
		if err != errRetry || attempt == 2 {
			t.Fatalf("mailserver: starting postfix: %v", err)
		}
	}
}

func startPostfix(t testing.TB, opts PostfixOptions, uid, gid int) (*Postfix, error) {
	dir := tempDir(t, "tlsmap-pf-")
	conf, queue, data := filepath.Join(dir, "conf"), filepath.Join(dir, "queue"), filepath.Join(dir, "data")
	for _, d := range []string{conf, queue, data} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := os.Chown(data, uid, gid); err != nil {
		return nil, err
	}
	certFile, keyFile := makeCert(t, conf)
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	p := &Postfix{
		Dir:   dir,
		SMTP:  fmt.Sprintf("127.0.0.1:%d", ports[0]),
		SMTPS: fmt.Sprintf("127.0.0.1:%d", ports[1]),
	}
	maillog := filepath.Join(dir, "maillog")
	mainCF := []string{
		"compatibility_level = 3.6",
		"queue_directory = " + queue,
		"data_directory = " + data,
		"command_directory = /usr/sbin",
		"daemon_directory = /usr/lib/postfix/sbin",
		"meta_directory = /etc/postfix",
		"shlib_directory = /usr/lib/postfix",
		"mail_owner = postfix",
		"setgid_group = postdrop",
		"myhostname = mx.tlsmap.test",
		"mydomain = tlsmap.test",
		"myorigin = tlsmap.test",
		"mydestination =",
		"alias_maps =",
		"alias_database =",
		"local_recipient_maps =",
		"biff = no",
		"inet_interfaces = 127.0.0.1",
		"inet_protocols = ipv4",
		"maillog_file = " + maillog,
		"maillog_file_prefixes = " + dir,
		"smtpd_banner = $myhostname ESMTP $mail_name",
		"smtpd_tls_cert_file = " + certFile,
		"smtpd_tls_key_file = " + keyFile,
		"smtpd_tls_security_level = may",
		// TLS 1.0 and up, every cipher OpenSSL has, at security level 0
		// (legacy suites and SHA-1 signatures allowed).
		"smtpd_tls_protocols = >=TLSv1",
		"smtpd_tls_mandatory_protocols = >=TLSv1",
		"smtpd_tls_ciphers = medium",
		"smtpd_tls_mandatory_ciphers = medium",
		"tls_medium_cipherlist = ALL:@SECLEVEL=0",
		fmt.Sprintf("smtpd_tls_loglevel = %d", opts.TLSLogLevel),
	}
	if opts.SASL != nil {
		mainCF = append(mainCF,
			"smtpd_sasl_auth_enable = yes",
			"smtpd_sasl_type = dovecot",
			"smtpd_sasl_path = "+opts.SASL.AuthSocket,
			"smtpd_tls_auth_only = no")
		p.SMTPAuthOnly = fmt.Sprintf("127.0.0.1:%d", ports[2])
	}
	masterCF := []string{
		p.SMTP + " inet n - n - - smtpd",
		p.SMTPS + " inet n - n - - smtpd -o smtpd_tls_wrappermode=yes",
		"tlsmgr unix - - n 1000? 1 tlsmgr",
		"anvil unix - - n - 1 anvil",
		"postlog unix-dgram n - n - 1 postlogd",
	}
	if p.SMTPAuthOnly != "" {
		masterCF = append(masterCF, p.SMTPAuthOnly+" inet n - n - - smtpd -o smtpd_tls_auth_only=yes")
	}
	for name, lines := range map[string][]string{"main.cf": mainCF, "master.cf": masterCF} {
		if err := os.WriteFile(filepath.Join(conf, name), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			return nil, err
		}
	}
	// Registered before the start so that a start that half-worked is
	// stopped too; it runs before tempDir's removal (cleanups run last
	// first).
	t.Cleanup(func() {
		_, _ = run(dir, "postfix", "-c", conf, "stop")
		waitExit(filepath.Join(queue, "pid", "master.pid"))
	})
	if out, err := run(dir, "postfix", "-c", conf, "start"); err != nil {
		log := tail(maillog, 20)
		if errAddrInUse(log) {
			return nil, errRetry
		}
		return nil, fmt.Errorf("postfix -c %s start: %v\n%s\n%s", conf, err, out, log)
	}
	addrs := []string{p.SMTP, p.SMTPS}
	if p.SMTPAuthOnly != "" {
		addrs = append(addrs, p.SMTPAuthOnly)
	}
	if err := waitListening(addrs, time.Now().Add(startTimeout)); err != nil {
		log := tail(maillog, 20)
		if errAddrInUse(log) {
			return nil, errRetry
		}
		return nil, fmt.Errorf("%v\n%s", err, log)
	}
	return p, nil
}

// Log returns the end of Postfix's log, for failure messages.
func (p *Postfix) Log() string { return tail(filepath.Join(p.Dir, "maillog"), 30) }
