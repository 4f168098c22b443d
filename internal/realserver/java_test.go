package realserver

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestJavaServer starts the Java server and completes a TLS 1.2 handshake
// with an ECDSA and with a DSS suite (its EC and DSA keys) and a TLS 1.0
// one (disabled by the JDK's defaults) with openssl s_client.
func TestJavaServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a JVM")
	}
	s := StartT(t, Config{Name: "java", Software: Java})
	for _, c := range []struct{ flag, cipher string }{
		{"-tls1_2", "ECDHE-ECDSA-AES128-GCM-SHA256"},
		{"-tls1_2", "DHE-DSS-AES128-SHA256@SECLEVEL=0"},
		{"-tls1", "ECDHE-RSA-AES128-SHA@SECLEVEL=0"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		out, err := exec.CommandContext(ctx, "openssl", "s_client", "-connect", s.Addr, "-servername", CertHost,
			c.flag, "-cipher", c.cipher).CombinedOutput()
		cancel()
		name := strings.SplitN(c.cipher, "@", 2)[0]
		if err != nil || !strings.Contains(string(out), "Cipher is "+name) {
			t.Errorf("s_client %s %s: %v\n%s\nserver log:\n%s", c.flag, c.cipher, err, out, s.Log())
		}
	}
}

func TestJavaSecurity(t *testing.T) {
	master := "# comment \\\njdk.tls.disabledAlgorithms=SSLv3, TLSv1, \\\n    RC4, DES\nsecurity.provider.1=SUN\n" +
		"jdk.certpath.disabledAlgorithms = MD2 \\\\\njdk.tls.legacyAlgorithms=NULL\n"
	got := javaSecurity(master)
	want := "# comment \\\nsecurity.provider.1=SUN\njdk.tls.legacyAlgorithms=NULL\n" +
		"jdk.tls.disabledAlgorithms=\njdk.certpath.disabledAlgorithms=\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
