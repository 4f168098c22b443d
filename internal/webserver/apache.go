package webserver

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ApacheFormat is the LogFormat StartApache configures by default: the
// combined format followed by mod_ssl's protocol and cipher.
const ApacheFormat = `%a %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %{SSL_PROTOCOL}x %{SSL_CIPHER}x`

// Apache is a running Apache httpd.
type Apache struct {
	HTTPS, HTTP string
	AccessLog   string
	Dir         string
}

// ApacheOptions configure StartApache.
type ApacheOptions struct {
	// LogFormat is the access log's LogFormat (default ApacheFormat).
	LogFormat string
}

// apacheModules are the modules (Debian builds them as shared objects)
// the configuration needs.
var apacheModules = []string{"mpm_event", "authz_core", "ssl", "socache_shmcb", "dir"}

// StartApache starts Apache (Debian's apache2) on two loopback ports and
// stops it when the test ends.
func StartApache(t testing.TB, opts ApacheOptions) *Apache {
	t.Helper()
	bin := sbin(t, "apache2")
	needRoot(t, "apache2")
	if opts.LogFormat == "" {
		opts.LogFormat = ApacheFormat
	}
	dir := tempDir(t, "tlsmap-apache-")
	cert, _ := certs(t, dir)
	if err := os.MkdirAll(filepath.Join(dir, "www"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "www", "index.html"), []byte("ok\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var a *Apache
	retry(t, "apache2", func() error {
		ports, err := freePorts(2)
		if err != nil {
			return err
		}
		a = &Apache{HTTPS: fmt.Sprintf("127.0.0.1:%d", ports[0]), HTTP: fmt.Sprintf("127.0.0.1:%d", ports[1]),
			AccessLog: filepath.Join(dir, "access.log"), Dir: dir}
		var b strings.Builder
		w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
		w("ServerRoot %s", dir)
		w("PidFile %s/httpd.pid", dir)
		w("DefaultRuntimeDir %s", dir)
		w("Mutex file:%s default", dir)
		for _, m := range apacheModules {
			w("LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so", m, m)
		}
		w("User www-data")
		w("Group www-data")
		w("ServerName localhost")
		w("ErrorLog %s/error.log", dir)
		w("LogLevel warn")
		w(`LogFormat "%s" tlsmap`, strings.ReplaceAll(opts.LogFormat, `"`, `\"`))
		w("CustomLog %s/access.log tlsmap", dir)
		w("DocumentRoot %s/www", dir)
		w("<Directory %s/www>", dir)
		w("  Require all granted")
		w("</Directory>")
		w("SSLSessionCache shmcb:%s/ssl_scache(512000)", dir)
		w("Listen %s", a.HTTP)
		w("Listen %s", a.HTTPS)
		w("<VirtualHost %s>", a.HTTPS)
		w("  SSLEngine on")
		w("  SSLCertificateFile %s", cert.CertFile)
		w("  SSLCertificateKeyFile %s", cert.KeyFile)
		w("  SSLProtocol all")
		w("  SSLCipherSuite ALL:@SECLEVEL=0")
		w("</VirtualHost>")
		conf := filepath.Join(dir, "httpd.conf")
		if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
			return err
		}
		cmd := exec.Command(bin, "-f", conf, "-DFOREGROUND")
		if _, err := start(t, dir, "apache2", cmd, []string{a.HTTPS, a.HTTP}); err != nil {
			errLog, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			return fmt.Errorf("%w\n%s", err, errLog)
		}
		return nil
	})
	return a
}
