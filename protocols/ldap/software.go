package ldap

import (
	"slices"
	"strings"

	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// knownVendors maps words of the root DSE's vendorName and vendorVersion
// (RFC 3045) to server software, most specific first.
var knownVendors = []plaintext.Software{
	{Needle: "389-directory", Name: "389 Directory Server"},
	{Needle: "389 project", Name: "389 Directory Server"},
	{Needle: "red hat", Name: "Red Hat Directory Server"},
	{Needle: "samba team", Name: "Samba"},
	{Needle: "openldap", Name: "OpenLDAP"},
	{Needle: "apache software foundation", Name: "ApacheDS"},
	{Needle: "novell", Name: "eDirectory"},
	{Needle: "netiq", Name: "eDirectory"},
	{Needle: "unboundid", Name: "UnboundID Directory Server"},
	{Needle: "ping identity", Name: "PingDirectory"},
	{Needle: "forgerock", Name: "ForgeRock Directory Services"},
	{Needle: "oracle", Name: "Oracle Directory Server"},
	{Needle: "sun microsystems", Name: "Sun Directory Server"},
	{Needle: "ibm", Name: "IBM Security Directory Server"},
}

// Root DSE values that name their server where no vendorName is
// published.
const (
	// LDAP_CAP_ACTIVE_DIRECTORY_OID and LDAP_CAP_ACTIVE_DIRECTORY_ADAM_OID
	// of supportedCapabilities ([MS-ADTS] §3.1.1.3.4.3).
	capActiveDirectory = "1.2.840.113556.1.4.800"
	capADLDS           = "1.2.840.113556.1.4.1851"
	// openLDAPExperimental is the OpenLDAP Foundation's experimental OID
	// arc, which only slapd's controls and features use.
	openLDAPExperimental = "1.3.6.1.4.1.4203.666."
)

// guessSoftware names the server software the root DSE reveals: its
// vendor's words first, then slapd's OpenLDAProotDSE object class, Active
// Directory's capabilities, OpenLDAP's experimental OIDs; "" when nothing
// does.
func guessSoftware(vendor string, attrs []attribute) string {
	if s := plaintext.GuessSoftware(knownVendors, vendor); s != "" {
		return s
	}
	values := func(name string) []string {
		for _, a := range attrs {
			if strings.EqualFold(a.name, name) {
				return a.values
			}
		}
		return nil
	}
	if slices.ContainsFunc(values("objectClass"), func(v string) bool { return strings.EqualFold(v, "OpenLDAProotDSE") }) {
		return "OpenLDAP"
	}
	caps := values("supportedCapabilities")
	switch {
	case slices.Contains(caps, capADLDS):
		return "Microsoft AD LDS"
	case slices.Contains(caps, capActiveDirectory):
		return "Microsoft Active Directory"
	}
	for _, name := range []string{"supportedControl", "supportedExtension", "supportedFeatures"} {
		if slices.ContainsFunc(values(name), func(v string) bool { return strings.HasPrefix(v, openLDAPExperimental) }) {
			return "OpenLDAP"
		}
	}
	return ""
}
