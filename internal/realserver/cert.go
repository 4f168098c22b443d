package realserver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// Cert is a self-signed certificate and its key, PEM files in a directory.
type Cert struct {
	Key      KeyType
	CertFile string
	KeyFile  string
}

// CertHost is the name the certificates are issued for; they also carry
// the IP SANs 127.0.0.1 and ::1.
const CertHost = "localhost"

// MakeCert makes a self-signed certificate with a fresh key of type k in
// dir (cert.pem, key.pem), with openssl req -x509, valid for 30 days.
func MakeCert(ctx context.Context, dir string, k KeyType) (Cert, error) {
	c := Cert{Key: k, CertFile: filepath.Join(dir, "cert.pem"), KeyFile: filepath.Join(dir, "key.pem")}
	var newkey []string
	switch k {
	case RSA2048:
		newkey = []string{"-newkey", "rsa:2048"}
	case ECDSAP256:
		newkey = []string{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"}
	default:
		return Cert{}, fmt.Errorf("realserver: unknown key type %v", k)
	}
	args := append([]string{"req", "-x509"}, newkey...)
	args = append(args, "-sha256", "-nodes", "-days", "30",
		"-keyout", c.KeyFile, "-out", c.CertFile,
		"-subj", "/CN="+CertHost,
		"-addext", "subjectAltName=DNS:"+CertHost+",IP:127.0.0.1,IP:::1")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Cert{}, fmt.Errorf("realserver: %w", err)
	}
	if _, err := run(ctx, dir, "openssl", args...); err != nil {
		return Cert{}, fmt.Errorf("realserver: making a certificate: %w", err)
	}
	return c, nil
}
