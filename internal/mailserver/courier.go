package mailserver

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/procgroup"
	"github.com/tlsmap/tlsmap/internal/realserver"
	"github.com/tlsmap/tlsmap/internal/testenv"
)

// Courier is a running Courier-IMAP — Debian's courier-imap, whose TLS is
// couriertls from courier-base, built on GnuTLS — serving IMAP with
// STARTTLS and IMAP over implicit TLS.
type Courier struct {
	IMAP  string // STARTTLS (host:port)
	IMAPS string // implicit TLS
	// Dir holds the certificate (imapd.pem: key and certificate, as
	// couriertls reads them), the DH parameters and each port's log
	// (imap.log, imaps.log).
	Dir string
}

// CourierBanner is the start of Courier-IMAP's greeting text, after "* OK "
// and the CAPABILITY response code.
const CourierBanner = "Courier-IMAP ready."

// CourierOptions configure StartCourier.
type CourierOptions struct {
	// Priority is the GnuTLS priority string (TLS_PRIORITY); "" leaves
	// couriertls's default, NORMAL.
	Priority string
}

// StartCourier starts Courier-IMAP on two loopback ports and stops it
// when the test ends. It runs from ExtractedRoot/courier (the unpacked
// courier-imap, courier-base, courier-authlib and the libraries they
// need) as Debian's init scripts run it, without them and their
// /etc/courier: one couriertcpd a port, in the foreground, with the
// settings in its environment; on the IMAP port it runs imaplogin, which
// runs couriertls on STARTTLS, and on the IMAPS port couriertls, which
// runs imaplogin. No DNS or ident lookups, and connection limits far
// above a scan's (couriertcpd's default is 4 per address). Nothing logs
// in (no authdaemond). A missing unpacked courier or courier user (which
// imapd turns into before it runs couriertls), or not being root, skips the test (fails it in
// CI).
func StartCourier(t testing.TB, opts CourierOptions) *Courier {
	t.Helper()
	u := needUnpacked(t, "courier", "usr/sbin/couriertcpd", "usr/bin/couriertls", "usr/bin/imapd", "usr/lib/courier/courier/imaplogin")
	needRoot(t, "courier-imap")
	cu, err := user.Lookup("courier")
	if err != nil {
		testenv.Missing(t, "no courier user (.ci/install-deps creates it): "+err.Error())
	}
	gid, _ := strconv.Atoi(cu.Gid)
	for attempt := 0; ; attempt++ {
		c, err := startCourier(t, u, opts, gid)
		if err == nil {
			return c
		}
		if err != errRetry || attempt == 2 {
			t.Fatalf("mailserver: starting courier-imap: %v", err)
		}
	}
}

func startCourier(t testing.TB, u unpacked, opts CourierOptions, gid int) (*Courier, error) {
	dir := tempDir(t, "tlsmap-co-")
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	cert, err := realserver.MakeCert(ctx, filepath.Join(dir, "tls"), realserver.RSA2048)
	if err != nil {
		return nil, err
	}
	pem := filepath.Join(dir, "imapd.pem")
	var both []byte
	for _, f := range []string{cert.KeyFile, cert.CertFile} {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		both = append(both, b...)
	}
	// On STARTTLS, imapd runs couriertls as the courier user: the key is
	// root's and the courier group's (as Debian's postinst leaves it).
	if err := os.WriteFile(pem, both, 0o640); err != nil {
		return nil, err
	}
	if err := os.Chown(pem, 0, gid); err != nil {
		return nil, err
	}
	// RFC 7919's ffdhe2048 for the DHE suites, in the PKCS #3 form
	// couriertls imports.
	dh := filepath.Join(dir, "dh.pem")
	if out, err := run(dir, "openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048", "-out", dh); err != nil {
		return nil, fmt.Errorf("openssl genpkey: %v\n%s", err, out)
	}
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	c := &Courier{Dir: dir, IMAP: fmt.Sprintf("127.0.0.1:%d", ports[0]), IMAPS: fmt.Sprintf("127.0.0.1:%d", ports[1])}
	env := []string{
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		u.libraryPath(),
		"COURIERTLS=" + u.path("usr/bin/couriertls"),
		"TLS_CERTFILE=" + pem,
		"TLS_DHPARAMS=" + dh,
		"TLS_VERIFYPEER=NONE",
		"IMAP_TLS_REQUIRED=0",
		"IMAP_CAPABILITY=IMAP4rev1 UIDPLUS CHILDREN NAMESPACE IDLE",
		"IMAP_CAPABILITY_TLS=IMAP4rev1 UIDPLUS CHILDREN NAMESPACE IDLE AUTH=PLAIN",
		"MAILDIRPATH=Maildir",
	}
	if opts.Priority != "" {
		env = append(env, "TLS_PRIORITY="+opts.Priority)
	}
	tcpd := func(port int, extraEnv []string, prog ...string) *exec.Cmd {
		args := []string{"-address=127.0.0.1", "-maxprocs=1000", "-maxperip=1000", "-maxperc=1000",
			"-nodnslookup", "-noidentlookup", fmt.Sprint(port)}
		cmd := exec.Command(u.path("usr/sbin/couriertcpd"), append(args, prog...)...)
		cmd.Dir = dir
		cmd.Env = append(append([]string(nil), env...), extraEnv...)
		return cmd
	}
	login := []string{u.path("usr/lib/courier/courier/imaplogin"), u.path("usr/bin/imapd"), "Maildir"}
	imap := tcpd(ports[0], []string{"IMAP_STARTTLS=YES"}, login...)
	imaps := tcpd(ports[1], []string{"IMAP_STARTTLS=NO", "IMAP_TLS=1"},
		append([]string{u.path("usr/bin/couriertls"), "-server", "-tcpd"}, login...)...)
	var procs []*procgroup.Process
	for name, cmd := range map[string]*exec.Cmd{"imap": imap, "imaps": imaps} {
		p, err := startProcess(t, cmd, filepath.Join(dir, name+".log"))
		if err != nil {
			for _, p := range procs {
				_ = p.Stop()
			}
			return nil, err
		}
		procs = append(procs, p)
	}
	if err := waitAccepting(procs, []string{c.IMAP, c.IMAPS}, time.Now().Add(startTimeout)); err != nil {
		for _, p := range procs {
			_ = p.Stop()
		}
		if errAddrInUse(c.Log()) {
			return nil, errRetry
		}
		return nil, fmt.Errorf("%v\n%s", err, c.Log())
	}
	return c, nil
}

// Log returns the end of both ports' logs, for failure messages.
func (c *Courier) Log() string {
	return tail(filepath.Join(c.Dir, "imap.log"), 20) + "\n" + tail(filepath.Join(c.Dir, "imaps.log"), 20)
}
