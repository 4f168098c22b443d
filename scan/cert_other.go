//go:build !linux

package scan

import (
	stdx509 "crypto/x509"
	"sync"
)

// Off Linux the certificate handshake is crypto/tls's alone: zcrypto's
// root loading does not build for Windows (x509 has no loadSystemRoots,
// ct/x509 does not type-check) nor for macOS on arm64 (ct/x509 has no
// loadSystemRoots without cgo), and zcrypto/tls imports both.
var platformBackend = stdBackend

// parsedPools is a CertPool parsed by crypto/x509.
type parsedPools struct {
	stdOnce sync.Once
	std     *stdx509.CertPool
}

// systemRoots is nil: crypto/x509 uses the system's roots (on macOS and
// Windows, the system's verifier) when VerifyOptions.Roots is nil.
func systemRoots() *CertPool { return nil }

// preloadRoots has nothing to preload.
func preloadRoots() {}
