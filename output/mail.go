package output

import (
	"strings"

	"github.com/tlsmap/tlsmap/protocols"
)

// dialogueRecord is the "dialogue" object of docs/schema/scan.md: the
// endpoint's protocols.Dialogue with every list present ([] rather than
// null); nil stays nil (JSON null).
func dialogueRecord(d *protocols.Dialogue) *protocols.Dialogue {
	if d == nil {
		return nil
	}
	list := func(l []string) []string {
		if l == nil {
			return []string{}
		}
		return l
	}
	rec := *d
	rec.Capabilities = list(d.Capabilities)
	rec.PlaintextAuth = list(d.PlaintextAuth)
	rec.CapabilitiesAfterTLS = list(d.CapabilitiesAfterTLS)
	return &rec
}

// writeDialogue writes the dialogue section of the terminal report.
func writeDialogue(p func(string, ...any), d *protocols.Dialogue) {
	if d == nil {
		return
	}
	p("")
	p("  Dialogue (%s, before TLS)", d.Protocol)
	p("    banner\t%s", dash(strings.ReplaceAll(d.Banner, "\n", " / ")))
	p("    software\t%s", dash(d.Software))
	starttls := "advertised"
	if !d.STARTTLSAdvertised {
		starttls = "not advertised"
	}
	p("    STARTTLS\t%s", starttls)
	p("    capabilities\t%s", dash(strings.Join(d.Capabilities, ", ")))
	auth := "none"
	if len(d.PlaintextAuth) > 0 {
		auth = strings.Join(d.PlaintextAuth, ", ")
	}
	p("    plaintext auth\t%s", auth)
	if len(d.CapabilitiesAfterTLS) > 0 {
		p("    after TLS\t%s", strings.Join(d.CapabilitiesAfterTLS, ", "))
	}
}
