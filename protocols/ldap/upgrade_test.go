package ldap

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/tlsmap/tlsmap/internal/fakemail"
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/prototest"
)

// upgrade is LDAP for the shared failure-mode table.
var upgrade = prototest.Upgrade{
	Protocol: Protocol, Server: fakeServer, Goodbye: "unbind",
	MaxLine: DefaultMaxLine, MaxLines: DefaultMaxLines,
	Fails: map[fakemail.Mode]prototest.Failure{
		fakemail.NoSTARTTLS:    {Stage: protocols.StageCapability},
		fakemail.Refuse:        {Stage: protocols.StageSTARTTLS}, // unavailable
		fakemail.RefuseBad:     {Stage: protocols.StageSTARTTLS}, // protocolError
		fakemail.DelayGreeting: {Stage: protocols.StageCapability},
		fakemail.Tarpit:        {Stage: protocols.StageCapability},
		fakemail.Endless:       {Stage: protocols.StageCapability},
		fakemail.LongLine:      {Stage: protocols.StageCapability},
		fakemail.CloseMid:      {Stage: protocols.StageCapability},
		fakemail.Throttle:      {Stage: protocols.StageCapability}, // a Notice of Disconnection, busy
	},
	Normal: protocols.Dialogue{
		Protocol: Name, Banner: "FakeLDAP Project 1.0", STARTTLSAdvertised: true,
		Capabilities: []string{"namingContexts: dc=fake,dc=test", "supportedLDAPVersion: 3", "supportedExtension: " + OIDStartTLS, "supportedExtension: 1.3.6.1.4.1.4203.1.11.3",
			"supportedSASLMechanisms: DIGEST-MD5", "supportedSASLMechanisms: PLAIN", "vendorName: FakeLDAP Project", "vendorVersion: 1.0"},
		PlaintextAuth: []string{"DIGEST-MD5", "PLAIN"}, AuthMechanisms: []string{"DIGEST-MD5", "PLAIN"},
		Attributes: map[string]string{AttrRootDSE: "read", AttrVendor: "FakeLDAP Project 1.0"},
	},
	Said: []string{"search", "extended " + OIDStartTLS},
}

func TestUpgrade(t *testing.T) { upgrade.Test(t) }

// TestUpgradeProbe: with Options.Probe the dialogue binds with the
// made-up name before StartTLS and reads the answer as a finding.
func TestUpgradeProbe(t *testing.T) {
	srv := fakemail.Start(t, fakeServer(fakemail.Normal))
	conn := fakemail.Dial(t, srv.Addr)
	d, err := Upgrade(context.Background(), conn, protocols.Options{Probe: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.Attributes[AttrSimpleBind] != "accepted (invalidCredentials)" || !slices.Equal(d.PlaintextAuth, []string{"DIGEST-MD5", "PLAIN", "SIMPLE"}) {
		t.Errorf("simple bind %q, plaintext auth %q", d.Attributes[AttrSimpleBind], d.PlaintextAuth)
	}
	want := []string{"search", "bind cn=tlsmap-probe,dc=fake,dc=test", "extended " + OIDStartTLS}
	if l := srv.Lines(); !slices.Equal(l, want) {
		t.Errorf("client said %q, want %q", l, want)
	}
	if _, err := fakemail.TLSHandshake(conn); err != nil {
		t.Fatalf("TLS after the probe: %v", err)
	}
}

// TestUpgradeResponses runs Upgrade against one-off scripts: the answers
// real servers give that the canned modes do not cover.
func TestUpgradeResponses(t *testing.T) {
	done := func(id int64, code int64, diag string) string {
		return string(response(id, tagSearchResDone, code, diag, ""))
	}
	rootDSE := string(entry(1, "", []attribute{{"namingContexts", []string{"dc=x"}}, {"supportedExtension", []string{OIDStartTLS}}}))
	// opsError answers the StartTLS requests from to to with slapd's
	// operationsError, one each.
	opsError := func(from, to int64) string {
		var b []byte
		for id := from; id <= to; id++ {
			b = append(b, response(id, tagExtendedResponse, codeOperationsError, "operations are outstanding", "")...)
		}
		return string(b)
	}
	cases := []struct {
		name   string
		script string
		opts   protocols.Options
		err    error // nil: upgraded
		stage  string
		attr   string // AttrRootDSE or AttrSimpleBind, as learnt
		reply  string
	}{
		{name: "openldap-no-response-name", script: rootDSE + done(1, 0, "") + string(response(2, tagExtendedResponse, 0, "", "")),
			attr: "read"},
		{name: "active-directory-long-lengths", script: longForm(entry(1, "", []attribute{{"supportedExtension", []string{OIDStartTLS}}})) +
			longForm(response(1, tagSearchResDone, 0, "", "")) + longForm(response(2, tagExtendedResponse, 0, "", OIDStartTLS)), attr: "read"},
		{name: "rootdse-refused-starttls-tried", script: done(1, codeInsufficientAccess, "anonymous access denied") +
			string(response(2, tagExtendedResponse, 0, "", OIDStartTLS)), attr: "unreadable: insufficientAccessRights: anonymous access denied"},
		{name: "rootdse-empty-starttls-tried", script: done(1, 0, "") + string(response(2, tagExtendedResponse, 0, "", OIDStartTLS)), attr: "no entry"},
		{name: "rootdse-without-supported-extension", script: string(entry(1, "", []attribute{{"vendorName", []string{"x"}}})) + done(1, 0, "") +
			string(response(2, tagExtendedResponse, 0, "", OIDStartTLS)), attr: "read"},
		{name: "rootdse-unavailable", script: done(1, codeUnavailable, "shutting down"),
			err: protocols.ErrThrottled, stage: protocols.StageCapability, reply: "unavailable: shutting down"},
		{name: "starttls-busy", script: rootDSE + done(1, 0, "") + string(response(2, tagExtendedResponse, codeBusy, "later", "")),
			err: protocols.ErrThrottled, stage: protocols.StageSTARTTLS, reply: "busy: later"},
		{name: "starttls-operations-error", script: rootDSE + done(1, 0, "") + opsError(2, 6),
			err: protocols.ErrSTARTTLSRefused, stage: protocols.StageSTARTTLS, reply: "operationsError: operations are outstanding"},
		{name: "starttls-operations-outstanding-a-moment", script: rootDSE + done(1, 0, "") + opsError(2, 3) +
			string(response(4, tagExtendedResponse, 0, "", OIDStartTLS)), attr: "read"},
		{name: "starttls-other-response-name", script: rootDSE + done(1, 0, "") + string(response(2, tagExtendedResponse, 0, "", "1.2.3")),
			err: protocols.ErrUnexpectedReply, stage: protocols.StageSTARTTLS},
		{name: "wrong-message-id", script: string(entry(7, "", nil)),
			err: protocols.ErrUnexpectedReply, stage: protocols.StageCapability},
		{name: "notice-of-disconnection-strongerauth", script: string(response(0, tagExtendedResponse, codeStrongerAuthRequired, "", OIDNoticeOfDisconnection)),
			err: protocols.ErrUnexpectedReply, stage: protocols.StageCapability, reply: "notice of disconnection: strongerAuthRequired"},
		{name: "http-server", script: "HTTP/1.1 400 Bad Request\r\n\r\n", err: protocols.ErrMalformed, stage: protocols.StageCapability},
		{name: "indefinite-length", script: "\x30\x80\x02\x01\x01", err: protocols.ErrMalformed, stage: protocols.StageCapability},
		{name: "a-request-not-a-response", script: string(searchRootDSE(1)), err: protocols.ErrMalformed, stage: protocols.StageCapability},
		{name: "probe-confidentiality-required", opts: protocols.Options{Probe: true},
			script: rootDSE + done(1, 0, "") + string(response(2, tagBindResponse, codeConfidentialityRequired, "confidentiality required", "")) +
				string(response(3, tagExtendedResponse, 0, "", OIDStartTLS)), attr: "refused (confidentialityRequired)"},
		{name: "probe-stronger-auth-required", opts: protocols.Options{Probe: true},
			script: rootDSE + done(1, 0, "") + string(response(2, tagBindResponse, codeStrongerAuthRequired, "", "")) +
				string(response(3, tagExtendedResponse, 0, "", OIDStartTLS)), attr: "refused (strongerAuthRequired)"},
		{name: "probe-no-such-object", opts: protocols.Options{Probe: true},
			script: rootDSE + done(1, 0, "") + string(response(2, tagBindResponse, codeNoSuchObject, "", "")) +
				string(response(3, tagExtendedResponse, 0, "", OIDStartTLS)), attr: "accepted (noSuchObject)"},
		{name: "probe-other", opts: protocols.Options{Probe: true},
			script: rootDSE + done(1, 0, "") + string(response(2, tagBindResponse, 80, "odd", "")) +
				string(response(3, tagExtendedResponse, 0, "", OIDStartTLS)), attr: "unknown (other: odd)"},
		{name: "probe-without-naming-context", opts: protocols.Options{Probe: true},
			script: string(entry(1, "", []attribute{{"supportedExtension", []string{OIDStartTLS}}})) + done(1, 0, "") +
				string(response(2, tagExtendedResponse, 0, "", OIDStartTLS)), attr: "not probed (the root DSE names no naming context)"},
		{name: "probe-busy", opts: protocols.Options{Probe: true},
			script: rootDSE + done(1, 0, "") + string(response(2, tagBindResponse, codeBusy, "", "")),
			err:    protocols.ErrThrottled, stage: StageBind},
		{name: "probe-answered-with-search-done", opts: protocols.Options{Probe: true},
			script: rootDSE + done(1, 0, "") + done(2, 0, ""), err: protocols.ErrUnexpectedReply, stage: StageBind},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn := prototest.Scripted(t, tc.script)
			d, err := Upgrade(context.Background(), conn, tc.opts)
			if tc.err == nil {
				if err != nil {
					t.Fatalf("Upgrade: %v", err)
				}
			} else {
				var e *protocols.Error
				if !errors.As(err, &e) || !errors.Is(err, tc.err) || e.Stage != tc.stage || tc.reply != "" && e.Reply != tc.reply {
					t.Fatalf("error %v (%#v), want %v at %s with reply %q", err, e, tc.err, tc.stage, tc.reply)
				}
			}
			if tc.attr != "" {
				got := d.Attributes[AttrRootDSE]
				if tc.opts.Probe {
					got = d.Attributes[AttrSimpleBind]
				}
				if got != tc.attr {
					t.Errorf("attribute %q, want %q", got, tc.attr)
				}
			}
		})
	}
}

func TestGuessSoftware(t *testing.T) {
	for _, tc := range []struct {
		vendor string
		attrs  []attribute
		want   string
	}{
		{"389 Project 389-Directory/2.3.1 B2023.045.0000", nil, "389 Directory Server"},
		{"Samba Team (https://www.samba.org)", []attribute{{"supportedCapabilities", []string{capActiveDirectory}}}, "Samba"},
		{"", []attribute{{"supportedCapabilities", []string{capActiveDirectory, "1.2.840.113556.1.4.1670"}}}, "Microsoft Active Directory"},
		{"", []attribute{{"supportedCapabilities", []string{capADLDS}}}, "Microsoft AD LDS"},
		{"", []attribute{{"supportedControl", []string{"2.16.840.1.113730.3.4.18", "1.3.6.1.4.1.4203.666.5.12"}}}, "OpenLDAP"},
		{"", []attribute{{"supportedFeatures", []string{"1.3.6.1.4.1.4203.1.5.1"}}}, ""},
		{"Novell, Inc.", nil, "eDirectory"},
		{"", nil, ""},
	} {
		if got := guessSoftware(tc.vendor, tc.attrs); got != tc.want {
			t.Errorf("guessSoftware(%q, %v) = %q, want %q", tc.vendor, tc.attrs, got, tc.want)
		}
	}
}
