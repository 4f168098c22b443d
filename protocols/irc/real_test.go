package irc

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/fakemail"
	"github.com/tlsmap/tlsmap/internal/protoserver"
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/prototest"
)

// TestRealInspIRCd runs Upgrade against InspIRCd 3 (internal/protoserver:
// GnuTLS, the starttls module, no host name lookups, so it says nothing
// until the client does) at every TLS version, Capabilities on its ircs
// port, and Upgrade against an InspIRCd without the starttls module.
func TestRealInspIRCd(t *testing.T) {
	srv := protoserver.InspIRCdT(t, protoserver.InspIRCdOptions{})
	info := prototest.RealUpgrade(t, prototest.Real{
		Protocol: Protocol, Name: "starttls", Log: srv.Log,
		Dial: func(t *testing.T) net.Conn { return fakemail.Dial(t, srv.Addr("irc")) },
		Check: func(d *protocols.Dialogue) bool {
			return d.Software == "InspIRCd" && d.STARTTLSAdvertised && slices.Contains(d.Capabilities, "tls") &&
				d.Attributes[AttrServer] == protoserver.InspIRCdName && d.Attributes[AttrCapabilities] == "listed" &&
				len(d.PlaintextAuth) == 0
		},
	})
	t.Logf("REAL-MATRIX irc | inspircd starttls | software %q | server %q | STARTTLS advertised %v | capabilities %q | TLS 1.0–1.3 handshakes after Upgrade ok",
		info.Software, info.Attributes[AttrServer], info.STARTTLSAdvertised, info.Capabilities)
	imp := prototest.RealImplicit(t, prototest.Real{
		Protocol: Protocol, Name: "ircs", Addr: srv.Addr("ircs"), Log: srv.Log,
		Check: func(d *protocols.Dialogue) bool {
			// InspIRCd lists tls over TLS too.
			return d.Software == "InspIRCd" && d.Attributes[AttrCapabilities] == "listed" && d.Attributes[AttrServer] == protoserver.InspIRCdName
		},
	})
	t.Logf("REAL-MATRIX irc | inspircd ircs     | software %q | capabilities %q", imp.Software, imp.Capabilities)

	bare := protoserver.InspIRCdT(t, protoserver.InspIRCdOptions{NoSTARTTLS: true})
	conn := fakemail.Dial(t, bare.Addr("irc"))
	d, err := Upgrade(context.Background(), conn, protocols.Options{})
	if !errors.Is(err, protocols.ErrNoSTARTTLS) || d == nil || d.STARTTLSAdvertised || d.Software != "InspIRCd" {
		t.Errorf("without the starttls module: %v, dialogue %+v; want STARTTLS not advertised\n%s", err, d, bare.Log())
	}
	// Asked anyway, InspIRCd says nothing to a command it does not know
	// before registration: a timeout, never a refusal nor a go-ahead.
	conn = fakemail.Dial(t, bare.Addr("irc"))
	d, err = Upgrade(context.Background(), conn, protocols.Options{StartTLSAnyway: true, Timeout: 2 * time.Second})
	var perr *protocols.Error
	if err == nil || errors.Is(err, protocols.ErrSTARTTLSRefused) || !errors.As(err, &perr) || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("without the starttls module, STARTTLS anyway: %v, dialogue %+v; want a timeout\n%s", err, d, bare.Log())
	}
	t.Logf("REAL-MATRIX irc | inspircd no starttls module | STARTTLS not advertised | asked anyway: %v", err)
}
