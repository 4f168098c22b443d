package protoserver

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
)

// MariaDBOptions configure MariaDB.
type MariaDBOptions struct {
	// NoSSL starts the server without a certificate: its greeting lacks
	// CLIENT_SSL.
	NoSSL bool
	// Port is the port (0: a free one).
	Port int
}

// MariaDB is a Starter of MariaDB (Debian's mariadb-server) serving
// mysql (the greeting, then an SSL request and TLS) on one loopback
// port: a fresh data directory made by mariadb-install-db, grant tables
// skipped (clients log in as anyone without a password), TLS 1.0 to 1.3
// (tls_version) with OpenSSL's whole cipher list at security level 0
// (ssl_cipher). mariadbd runs as the package's mysql user (--user).
func MariaDB(opts MariaDBOptions) Starter {
	return func(ctx context.Context, dir string) (*Server, error) {
		my, err := user.Lookup("mysql")
		if err != nil {
			return nil, fmt.Errorf("protoserver: the mysql user: %w", err)
		}
		uid, _ := strconv.Atoi(my.Uid)
		gid, _ := strconv.Atoi(my.Gid)
		cert, err := makeCert(ctx, dir)
		if err != nil {
			return nil, err
		}
		own := filepath.Join(dir, "mariadb")
		data := filepath.Join(own, "data")
		for _, d := range []string{own, data} {
			if err := os.Mkdir(d, 0o700); err != nil {
				return nil, err
			}
			if err := os.Chown(d, uid, gid); err != nil {
				return nil, err
			}
		}
		install := exec.CommandContext(ctx, "mariadb-install-db", "--no-defaults", "--user=mysql", "--datadir="+data,
			"--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve")
		install.Dir = own
		if out, err := install.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("protoserver: mariadb-install-db: %w\n%s", err, out)
		}
		var fixed []int
		if opts.Port != 0 {
			fixed = []int{opts.Port}
		}
		return start(ctx, "mariadb", dir, cert, fixed, 1, func(ports []int) ([]*exec.Cmd, map[string]string, error) {
			args := []string{"--no-defaults", "--user=mysql", "--datadir=" + data,
				"--bind-address=127.0.0.1", "--port=" + strconv.Itoa(ports[0]), "--socket=" + filepath.Join(own, "mysqld.sock"),
				"--pid-file=" + filepath.Join(own, "mysqld.pid"), "--log-error=" + filepath.Join(own, "error.log"),
				"--skip-grant-tables", "--skip-name-resolve", "--skip-log-bin", "--max-connections=300",
				"--innodb-buffer-pool-size=16M", "--innodb-log-file-size=8M", "--performance-schema=OFF"}
			if !opts.NoSSL {
				args = append(args, "--ssl-cert="+cert.CertFile, "--ssl-key="+cert.KeyFile,
					"--tls-version=TLSv1.0,TLSv1.1,TLSv1.2,TLSv1.3", "--ssl-cipher="+OpenSSLCiphers)
			}
			cmd := exec.Command("mariadbd", args...)
			cmd.Dir = own
			return []*exec.Cmd{cmd}, map[string]string{"mysql": addr(ports[0])}, nil
		})
	}
}

// MariaDBT starts MariaDB for a test (StartT).
func MariaDBT(t testing.TB, opts MariaDBOptions) *Server {
	t.Helper()
	return StartT(t, MariaDB(opts), "mariadbd", "mariadb-install-db")
}
