package output

import (
	"strings"

	"github.com/tlsmap/tlsmap/scan"
)

// DialogueRecord is the plaintext mail dialogue of an endpoint
// (scan.Dialogue): the "dialogue" object of docs/schema/scan.md.
type DialogueRecord struct {
	Protocol             string   `json:"protocol"` // smtp, imap, pop3
	Banner               string   `json:"banner"`
	Software             string   `json:"software"` // "" when not recognised
	Capabilities         []string `json:"capabilities"`
	STARTTLSAdvertised   bool     `json:"starttls_advertised"`
	PlaintextAuth        []string `json:"plaintext_auth"`
	CapabilitiesAfterTLS []string `json:"capabilities_after_tls"` // [] when not fetched
}

// newDialogueRecord converts a dialogue; nil stays nil (JSON null).
func newDialogueRecord(d *scan.Dialogue) *DialogueRecord {
	if d == nil {
		return nil
	}
	list := func(l []string) []string {
		if l == nil {
			return []string{}
		}
		return l
	}
	return &DialogueRecord{
		Protocol: d.Protocol, Banner: d.Banner, Software: d.Software,
		Capabilities: list(d.Capabilities), STARTTLSAdvertised: d.STARTTLSAdvertised,
		PlaintextAuth: list(d.PlaintextAuth), CapabilitiesAfterTLS: list(d.CapabilitiesAfterTLS),
	}
}

// writeDialogue writes the dialogue section of the terminal report.
func writeDialogue(p func(string, ...any), d *DialogueRecord) {
	if d == nil {
		return
	}
	p("")
	p("  Mail dialogue (%s, before TLS)", d.Protocol)
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
