package scan

import (
	"errors"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsmap/tlsmap/protocols"
)

func TestProtocol(t *testing.T) {
	tests := []struct {
		p        Protocol
		starttls bool
		port     uint16
	}{
		{ProtoTLS, false, 443},
		{ProtoHTTPS, false, 443},
		{ProtoSMTP, true, 25},
		{ProtoSubmission, true, 587},
		{ProtoSMTPS, false, 465},
		{ProtoIMAP, true, 143},
		{ProtoIMAPS, false, 993},
		{ProtoPOP3, true, 110},
		{ProtoPOP3S, false, 995},
		{"gopher", false, 0},
		{"", false, 0},
	}
	for _, tt := range tests {
		if got := tt.p.STARTTLS(); got != tt.starttls {
			t.Errorf("%q.STARTTLS() = %v, want %v", tt.p, got, tt.starttls)
		}
		if got := tt.p.DefaultPort(); got != tt.port {
			t.Errorf("%q.DefaultPort() = %d, want %d", tt.p, got, tt.port)
		}
		if got := tt.p.String(); got != string(tt.p) {
			t.Errorf("%q.String() = %q", tt.p, got)
		}
	}
}

func TestProtocolForPort(t *testing.T) {
	tests := []struct {
		port uint16
		want Protocol
	}{
		{25, ProtoSMTP}, {587, ProtoSubmission}, {465, ProtoSMTPS},
		{143, ProtoIMAP}, {993, ProtoIMAPS}, {110, ProtoPOP3}, {995, ProtoPOP3S},
		{443, ProtoHTTPS}, {8443, ProtoTLS}, {1, ProtoTLS}, {65535, ProtoTLS}, {0, ProtoTLS},
	}
	for _, tt := range tests {
		if got := ProtocolForPort(tt.port); got != tt.want {
			t.Errorf("ProtocolForPort(%d) = %q, want %q", tt.port, got, tt.want)
		}
	}
	// Every registered scheme's default port maps back to it, or to the
	// protocol's first scheme on that port (postgres for postgresql and
	// postgres-direct).
	for _, sc := range protocols.Schemes() {
		p := Protocol(sc.Name)
		got := ProtocolForPort(p.DefaultPort())
		owner, _, _ := protocols.ForScheme(sc.Name)
		first, _, _ := protocols.ForScheme(string(got))
		if got != p && first != owner {
			t.Errorf("ProtocolForPort(%q.DefaultPort()) = %q", p, got)
		}
	}
	if ProtocolForPort(5432) != "postgres" {
		t.Errorf("ProtocolForPort(5432) = %q, want postgres (the SSLRequest)", ProtocolForPort(5432))
	}
}

func TestParseTarget(t *testing.T) {
	smtp := TargetOptions{STARTTLS: ProtoSMTP}
	imap := TargetOptions{STARTTLS: ProtoIMAP}
	port8443 := TargetOptions{DefaultPort: 8443}
	tests := []struct {
		in   string
		opts TargetOptions
		want Target // Input is filled from in
		str  string // want.String()
		dial string // want.DialAddress()
	}{
		// host
		{in: "example.com", want: Target{Host: "example.com", Addr: "example.com", Port: 443, Protocol: ProtoHTTPS},
			str: "https://example.com:443", dial: "example.com:443"},
		{in: "Mail.Example.COM", want: Target{Host: "mail.example.com", Addr: "mail.example.com", Port: 443, Protocol: ProtoHTTPS},
			str: "https://mail.example.com:443", dial: "mail.example.com:443"},
		{in: "example.com.", want: Target{Host: "example.com", Addr: "example.com.", Port: 443, Protocol: ProtoHTTPS},
			str: "https://example.com.:443", dial: "example.com.:443"},
		{in: "localhost", want: Target{Host: "localhost", Addr: "localhost", Port: 443, Protocol: ProtoHTTPS},
			str: "https://localhost:443", dial: "localhost:443"},
		{in: "_dmarc.under_score.example", want: Target{Host: "_dmarc.under_score.example", Addr: "_dmarc.under_score.example", Port: 443, Protocol: ProtoHTTPS},
			str: "https://_dmarc.under_score.example:443", dial: "_dmarc.under_score.example:443"},
		{in: "xn--bcher-kva.example", want: Target{Host: "xn--bcher-kva.example", Addr: "xn--bcher-kva.example", Port: 443, Protocol: ProtoHTTPS},
			str: "https://xn--bcher-kva.example:443", dial: "xn--bcher-kva.example:443"},
		{in: "1password.com", want: Target{Host: "1password.com", Addr: "1password.com", Port: 443, Protocol: ProtoHTTPS},
			str: "https://1password.com:443", dial: "1password.com:443"},
		{in: "example.com", opts: port8443, want: Target{Host: "example.com", Addr: "example.com", Port: 8443, Protocol: ProtoTLS},
			str: "tls://example.com:8443", dial: "example.com:8443"},
		{in: "example.com", opts: smtp, want: Target{Host: "example.com", Addr: "example.com", Port: 25, Protocol: ProtoSMTP},
			str: "smtp://example.com:25", dial: "example.com:25"},
		{in: "example.com", opts: TargetOptions{DefaultPort: 2525, STARTTLS: ProtoSMTP}, want: Target{Host: "example.com", Addr: "example.com", Port: 2525, Protocol: ProtoSMTP},
			str: "smtp://example.com:2525", dial: "example.com:2525"},

		// host:port, protocol by port
		{in: "example.com:8443", want: Target{Host: "example.com", Addr: "example.com", Port: 8443, Protocol: ProtoTLS},
			str: "tls://example.com:8443", dial: "example.com:8443"},
		{in: "example.com:443", want: Target{Host: "example.com", Addr: "example.com", Port: 443, Protocol: ProtoHTTPS},
			str: "https://example.com:443", dial: "example.com:443"},
		{in: "mx.example.com:25", want: Target{Host: "mx.example.com", Addr: "mx.example.com", Port: 25, Protocol: ProtoSMTP},
			str: "smtp://mx.example.com:25", dial: "mx.example.com:25"},
		{in: "mail.example.com:587", want: Target{Host: "mail.example.com", Addr: "mail.example.com", Port: 587, Protocol: ProtoSubmission},
			str: "submission://mail.example.com:587", dial: "mail.example.com:587"},
		{in: "mail.example.com:465", want: Target{Host: "mail.example.com", Addr: "mail.example.com", Port: 465, Protocol: ProtoSMTPS},
			str: "smtps://mail.example.com:465", dial: "mail.example.com:465"},
		{in: "mail.example.com:143", want: Target{Host: "mail.example.com", Addr: "mail.example.com", Port: 143, Protocol: ProtoIMAP},
			str: "imap://mail.example.com:143", dial: "mail.example.com:143"},
		{in: "mail.example.com:993", want: Target{Host: "mail.example.com", Addr: "mail.example.com", Port: 993, Protocol: ProtoIMAPS},
			str: "imaps://mail.example.com:993", dial: "mail.example.com:993"},
		{in: "mail.example.com:110", want: Target{Host: "mail.example.com", Addr: "mail.example.com", Port: 110, Protocol: ProtoPOP3},
			str: "pop3://mail.example.com:110", dial: "mail.example.com:110"},
		{in: "mail.example.com:995", want: Target{Host: "mail.example.com", Addr: "mail.example.com", Port: 995, Protocol: ProtoPOP3S},
			str: "pop3s://mail.example.com:995", dial: "mail.example.com:995"},
		{in: "example.com:65535", want: Target{Host: "example.com", Addr: "example.com", Port: 65535, Protocol: ProtoTLS},
			str: "tls://example.com:65535", dial: "example.com:65535"},
		{in: "example.com:0443", want: Target{Host: "example.com", Addr: "example.com", Port: 443, Protocol: ProtoHTTPS},
			str: "https://example.com:443", dial: "example.com:443"},
		// --starttls forces the protocol of a bare host:port
		{in: "mail.example.com:2525", opts: smtp, want: Target{Host: "mail.example.com", Addr: "mail.example.com", Port: 2525, Protocol: ProtoSMTP},
			str: "smtp://mail.example.com:2525", dial: "mail.example.com:2525"},
		{in: "mail.example.com:993", opts: imap, want: Target{Host: "mail.example.com", Addr: "mail.example.com", Port: 993, Protocol: ProtoIMAP},
			str: "imap://mail.example.com:993", dial: "mail.example.com:993"},
		{in: "mail.example.com:587", opts: TargetOptions{STARTTLS: ProtoPOP3}, want: Target{Host: "mail.example.com", Addr: "mail.example.com", Port: 587, Protocol: ProtoPOP3},
			str: "pop3://mail.example.com:587", dial: "mail.example.com:587"},

		// IPv4
		{in: "192.0.2.1", want: Target{Addr: "192.0.2.1", Port: 443, Protocol: ProtoHTTPS},
			str: "https://192.0.2.1:443", dial: "192.0.2.1:443"},
		{in: "192.0.2.1:8443", want: Target{Addr: "192.0.2.1", Port: 8443, Protocol: ProtoTLS},
			str: "tls://192.0.2.1:8443", dial: "192.0.2.1:8443"},
		{in: "127.0.0.1:25", opts: imap, want: Target{Addr: "127.0.0.1", Port: 25, Protocol: ProtoIMAP},
			str: "imap://127.0.0.1:25", dial: "127.0.0.1:25"},

		// IPv6
		{in: "[2001:db8::1]:443", want: Target{Addr: "2001:db8::1", Port: 443, Protocol: ProtoHTTPS},
			str: "https://[2001:db8::1]:443", dial: "[2001:db8::1]:443"},
		{in: "[2001:DB8:0:0::1]:993", want: Target{Addr: "2001:db8::1", Port: 993, Protocol: ProtoIMAPS},
			str: "imaps://[2001:db8::1]:993", dial: "[2001:db8::1]:993"},
		{in: "[2001:db8::1]", want: Target{Addr: "2001:db8::1", Port: 443, Protocol: ProtoHTTPS},
			str: "https://[2001:db8::1]:443", dial: "[2001:db8::1]:443"},
		{in: "2001:db8::1", want: Target{Addr: "2001:db8::1", Port: 443, Protocol: ProtoHTTPS},
			str: "https://[2001:db8::1]:443", dial: "[2001:db8::1]:443"},
		{in: "2001:db8::1:443", want: Target{Addr: "2001:db8::1:443", Port: 443, Protocol: ProtoHTTPS},
			str: "https://[2001:db8::1:443]:443", dial: "[2001:db8::1:443]:443"},
		{in: "::1", opts: smtp, want: Target{Addr: "::1", Port: 25, Protocol: ProtoSMTP},
			str: "smtp://[::1]:25", dial: "[::1]:25"},
		{in: "[::ffff:192.0.2.1]:443", want: Target{Addr: "::ffff:192.0.2.1", Port: 443, Protocol: ProtoHTTPS},
			str: "https://[::ffff:192.0.2.1]:443", dial: "[::ffff:192.0.2.1]:443"},
		// IPv6 zones: bare, or bracketed (with or without a port)
		{in: "fe80::1%eth0", want: Target{Addr: "fe80::1%eth0", Port: 443, Protocol: ProtoHTTPS},
			str: "https://[fe80::1%25eth0]:443", dial: "[fe80::1%eth0]:443"},
		{in: "[fe80::1%eth0]:8443", want: Target{Addr: "fe80::1%eth0", Port: 8443, Protocol: ProtoTLS},
			str: "tls://[fe80::1%25eth0]:8443", dial: "[fe80::1%eth0]:8443"},
		{in: "[fe80::1%Wi-Fi.2_x]", want: Target{Addr: "fe80::1%Wi-Fi.2_x", Port: 443, Protocol: ProtoHTTPS},
			str: "https://[fe80::1%25Wi-Fi.2_x]:443", dial: "[fe80::1%Wi-Fi.2_x]:443"},
		{in: "https://[fe80::1%25eth0]:443", want: Target{Addr: "fe80::1%eth0", Port: 443, Protocol: ProtoHTTPS},
			str: "https://[fe80::1%25eth0]:443", dial: "[fe80::1%eth0]:443"},
		{in: "https://[fe80::1%eth0]", want: Target{Addr: "fe80::1%eth0", Port: 443, Protocol: ProtoHTTPS},
			str: "https://[fe80::1%25eth0]:443", dial: "[fe80::1%eth0]:443"},
		{in: "https://[fe80::1%2525]", want: Target{Addr: "fe80::1%25", Port: 443, Protocol: ProtoHTTPS},
			str: "https://[fe80::1%2525]:443", dial: "[fe80::1%25]:443"},
		{in: "[fe80::1%25]:443", want: Target{Addr: "fe80::1%25", Port: 443, Protocol: ProtoHTTPS},
			str: "https://[fe80::1%2525]:443", dial: "[fe80::1%25]:443"},

		// URLs
		{in: "https://example.com", want: Target{Host: "example.com", Addr: "example.com", Port: 443, Protocol: ProtoHTTPS},
			str: "https://example.com:443", dial: "example.com:443"},
		{in: "HTTPS://Example.com:8443/some/path?q=1#frag", want: Target{Host: "example.com", Addr: "example.com", Port: 8443, Protocol: ProtoHTTPS},
			str: "https://example.com:8443", dial: "example.com:8443"},
		{in: "https://example.com/", want: Target{Host: "example.com", Addr: "example.com", Port: 443, Protocol: ProtoHTTPS},
			str: "https://example.com:443", dial: "example.com:443"},
		{in: "https://example.com?x", want: Target{Host: "example.com", Addr: "example.com", Port: 443, Protocol: ProtoHTTPS},
			str: "https://example.com:443", dial: "example.com:443"},
		{in: "https://[2001:db8::1]/", want: Target{Addr: "2001:db8::1", Port: 443, Protocol: ProtoHTTPS},
			str: "https://[2001:db8::1]:443", dial: "[2001:db8::1]:443"},
		{in: "https://192.0.2.1:4443", want: Target{Addr: "192.0.2.1", Port: 4443, Protocol: ProtoHTTPS},
			str: "https://192.0.2.1:4443", dial: "192.0.2.1:4443"},
		{in: "tls://example.com", want: Target{Host: "example.com", Addr: "example.com", Port: 443, Protocol: ProtoTLS},
			str: "tls://example.com:443", dial: "example.com:443"},
		{in: "smtp://mx.example.com", want: Target{Host: "mx.example.com", Addr: "mx.example.com", Port: 25, Protocol: ProtoSMTP},
			str: "smtp://mx.example.com:25", dial: "mx.example.com:25"},
		{in: "submission://mail.example.com", want: Target{Host: "mail.example.com", Addr: "mail.example.com", Port: 587, Protocol: ProtoSubmission},
			str: "submission://mail.example.com:587", dial: "mail.example.com:587"},
		{in: "smtps://mail.example.com", want: Target{Host: "mail.example.com", Addr: "mail.example.com", Port: 465, Protocol: ProtoSMTPS},
			str: "smtps://mail.example.com:465", dial: "mail.example.com:465"},
		{in: "imap://mail.example.com", want: Target{Host: "mail.example.com", Addr: "mail.example.com", Port: 143, Protocol: ProtoIMAP},
			str: "imap://mail.example.com:143", dial: "mail.example.com:143"},
		{in: "imaps://mail.example.com", want: Target{Host: "mail.example.com", Addr: "mail.example.com", Port: 993, Protocol: ProtoIMAPS},
			str: "imaps://mail.example.com:993", dial: "mail.example.com:993"},
		{in: "pop3://mail.example.com", want: Target{Host: "mail.example.com", Addr: "mail.example.com", Port: 110, Protocol: ProtoPOP3},
			str: "pop3://mail.example.com:110", dial: "mail.example.com:110"},
		{in: "pop3s://mail.example.com", want: Target{Host: "mail.example.com", Addr: "mail.example.com", Port: 995, Protocol: ProtoPOP3S},
			str: "pop3s://mail.example.com:995", dial: "mail.example.com:995"},
		{in: "smtp://mx.example.com:2525", want: Target{Host: "mx.example.com", Addr: "mx.example.com", Port: 2525, Protocol: ProtoSMTP},
			str: "smtp://mx.example.com:2525", dial: "mx.example.com:2525"},
		// A scheme wins over --starttls; DefaultPort fills a URL's missing port.
		{in: "imaps://mail.example.com", opts: smtp, want: Target{Host: "mail.example.com", Addr: "mail.example.com", Port: 993, Protocol: ProtoIMAPS},
			str: "imaps://mail.example.com:993", dial: "mail.example.com:993"},
		{in: "https://example.com", opts: port8443, want: Target{Host: "example.com", Addr: "example.com", Port: 8443, Protocol: ProtoHTTPS},
			str: "https://example.com:8443", dial: "example.com:8443"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTarget(tt.in, tt.opts)
			if err != nil {
				t.Fatalf("ParseTarget(%q, %+v): %v", tt.in, tt.opts, err)
			}
			want := tt.want
			want.Input = tt.in
			if got != want {
				t.Fatalf("ParseTarget(%q, %+v)\n got %#v\nwant %#v", tt.in, tt.opts, got, want)
			}
			if s := got.String(); s != tt.str {
				t.Errorf("String() = %q, want %q", s, tt.str)
			}
			if d := got.DialAddress(); d != tt.dial {
				t.Errorf("DialAddress() = %q, want %q", d, tt.dial)
			}
			checkRoundTrip(t, got, tt.opts)
		})
	}
}

func TestParseTargetErrors(t *testing.T) {
	long := strings.Repeat("a", 64)
	tooLong := strings.Repeat(strings.Repeat("a", 63)+".", 4) + "com" // 259 characters
	tests := []struct {
		in   string
		opts TargetOptions
		want string // in the message, after `scan: bad target "in": `
	}{
		{in: "", want: "empty"},
		{in: "example.com ", want: "contains whitespace ' ' at byte 11"},
		{in: " example.com", want: "contains whitespace ' ' at byte 0"},
		{in: "exa mple.com", want: "contains whitespace ' ' at byte 3"},
		{in: "example.com\t", want: "contains whitespace '\\t' at byte 11"},
		{in: "example.com\n", want: "contains whitespace '\\n' at byte 11"},
		{in: "exam\x00ple.com", want: "contains control character '\\x00' at byte 4"},
		{in: "example.com\x7f", want: "contains control character '\\x7f' at byte 11"},
		{in: "example\u00a0.com", want: "contains whitespace '\\u00a0' at byte 7"},
		{in: "example\u0085.com", want: "contains whitespace '\\u0085' at byte 7"},
		{in: "example\u009b.com", want: "contains control character '\\u009b' at byte 7"},
		{in: "bücher.example", want: "contains non-ASCII 'ü' at byte 1 (give international names in their xn-- form)"},
		{in: "exa\xffmple.com", want: "contains invalid UTF-8 at byte 3"},

		// ports
		{in: "example.com:0", want: "port 0 out of range 1-65535"},
		{in: "example.com:65536", want: "port 65536 out of range 1-65535"},
		{in: "example.com:99999999999999999999999", want: "port 99999999999999999999999 out of range 1-65535"},
		{in: "example.com:https", want: `port "https" is not a number`},
		{in: "example.com:-1", want: `port "-1" is not a number`},
		{in: "example.com:+443", want: `port "+443" is not a number`},
		{in: "example.com:", want: "missing port after ':'"},
		{in: "[2001:db8::1]:", want: "missing port after ':'"},
		{in: "[2001:db8::1]:0", want: "port 0 out of range 1-65535"},
		{in: "https://example.com:70000/", want: "port 70000 out of range 1-65535"},
		{in: "https://example.com:/", want: "missing port after ':'"},
		{in: ":443", want: "missing host before ':'"},

		// schemes and URLs
		{in: "http://example.com", want: `unknown scheme "http" (want one of tls, https, smtp, submission, smtps, imap, imaps, pop3, pop3s`},
		{in: "gopher://example.com", want: `unknown scheme "gopher"`},
		{in: "://example.com", want: `missing scheme before "://"`},
		{in: "https://", want: "missing host"},
		{in: "https:///path", want: "missing host"},
		{in: "https://user:pass@example.com", want: "credentials (user@) are not allowed"},
		{in: "https://user@example.com/", want: "credentials (user@) are not allowed"},
		{in: "user@example.com:25", want: "credentials (user@) are not allowed"},
		{in: "example.com/path", want: `unexpected '/' without a scheme (write a URL, e.g. https://host/path)`},
		{in: "example.com:443/", want: `unexpected '/' without a scheme`},
		{in: "example.com?q", want: `unexpected '?' without a scheme`},
		{in: "https://2001:db8::1", want: "an IPv6 literal in a URL must be in brackets: [addr]:port"},
		{in: "https://example.com:443:80", want: `too many ':' in "example.com:443:80"`},
		{in: "https:example.com", want: `port "example.com" is not a number`},

		// host names
		{in: "-example.com", want: `label "-example" starts or ends with a hyphen`},
		{in: "example-.com", want: `label "example-" starts or ends with a hyphen`},
		{in: "www.-example.com:443", want: `label "-example" starts or ends with a hyphen`},
		{in: "example..com", want: `host name "example..com" has an empty label`},
		{in: ".example.com", want: `host name ".example.com" has an empty label`},
		{in: "example.com..", want: `host name "example.com.." has an empty label`},
		{in: ".", want: "missing host"},
		{in: long + ".com", want: `label "aaaaaaaaaaaaaaaaaaaa"… is 64 characters long (at most 63)`},
		{in: tooLong, want: "host name is 259 characters long (at most 253)"},
		{in: "exa!mple.com", want: `invalid character '!' in host name "exa!mple.com"`},
		{in: "exa%mple.com", want: `invalid character '%' in host name "exa%mple.com"`},
		{in: "exam*ple.com", want: `invalid character '*' in host name "exam*ple.com"`},
		{in: "256.1.1.1", want: `invalid IPv4 address "256.1.1.1"`},
		{in: "01.2.3.4", want: `invalid IPv4 address "01.2.3.4"`},
		{in: "1.2.3", want: `invalid IPv4 address "1.2.3"`},
		{in: "1.2.3.4.5:443", want: `invalid IPv4 address "1.2.3.4.5"`},
		{in: "192.0.2.1%eth0", want: `invalid character '%' in host name "192.0.2.1%eth0"`},
		{in: "0.0.0.0", want: "unspecified address 0.0.0.0 is not a target"},
		{in: "0.0.0.0:443", want: "unspecified address 0.0.0.0 is not a target"},

		// IPv6 literals and zones
		{in: "::", want: "unspecified address :: is not a target"},
		{in: "[::]:443", want: "unspecified address :: is not a target"},
		{in: "[2001:db8::1", want: "missing ']' after IPv6 literal"},
		{in: "2001:db8::1]", want: "unexpected ']' without '['"},
		{in: "[2001:db8::1]443", want: `unexpected "443" after ']' (want :port)`},
		{in: "[]:443", want: "empty IPv6 literal"},
		{in: "[192.0.2.1]:443", want: `brackets are for IPv6 literals, not "192.0.2.1"`},
		{in: "[example.com]:443", want: `invalid IPv6 literal "example.com"`},
		{in: "[2001:db8::g]:443", want: `invalid IPv6 literal "2001:db8::g"`},
		{in: "2001:db8::1::2", want: `"2001:db8::1::2" is neither host:port nor an IPv6 literal`},
		{in: "a:b:c", want: `"a:b:c" is neither host:port nor an IPv6 literal`},
		{in: "fe80::1%eth0:443", want: `invalid IPv6 zone "eth0:443": a port after an IPv6 literal needs brackets, e.g. [fe80::1%eth0]:port`},
		{in: "fe80::1%", want: "empty IPv6 zone after '%'"},
		{in: "[fe80::1%]:443", want: "empty IPv6 zone after '%'"},
		{in: "https://[fe80::1%25]", want: "empty IPv6 zone after '%'"},
		{in: "[fe80::1%et/h0]:443", want: `unexpected '/' without a scheme`},
		{in: "[fe80::1%et*h0]:443", want: `invalid character '*' in IPv6 zone "et*h0"`},
		{in: "[fe80::1%eth0%1]:443", want: `invalid character '%' in IPv6 zone "eth0%1"`},

		// options
		{in: "example.com", opts: TargetOptions{STARTTLS: ProtoHTTPS}, want: `--starttls "https" is not a STARTTLS protocol (want smtp, submission, imap, pop3`},
		{in: "example.com", opts: TargetOptions{STARTTLS: "gopher"}, want: `--starttls "gopher" is not a STARTTLS protocol`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTarget(tt.in, tt.opts)
			if err == nil {
				t.Fatalf("ParseTarget(%q) = %#v, want an error containing %q", tt.in, got, tt.want)
			}
			if !errors.Is(err, ErrBadTarget) {
				t.Errorf("error %q does not wrap ErrBadTarget", err)
			}
			prefix := "scan: bad target " + strconv.Quote(tt.in) + ": "
			if msg := err.Error(); !strings.HasPrefix(msg, prefix) || !strings.Contains(msg[len(prefix):], tt.want) {
				t.Errorf("ParseTarget(%q) error\n got %q\nwant %q", tt.in, msg, prefix+tt.want+"…")
			}
			if got != (Target{}) {
				t.Errorf("ParseTarget(%q) returned %#v with its error", tt.in, got)
			}
		})
	}
}

// checkRoundTrip asserts the invariants every parsed Target keeps: it is
// complete, its String form parses back to it, and its dial address splits
// back into Addr and Port.
func checkRoundTrip(t *testing.T, got Target, opts TargetOptions) {
	t.Helper()
	if got.Port == 0 || !got.Protocol.valid() || got.Addr == "" {
		t.Fatalf("incomplete target %#v", got)
	}
	isIP := net.ParseIP(strings.SplitN(got.Addr, "%", 2)[0]) != nil
	if isIP != (got.Host == "") {
		t.Fatalf("target %#v: Host must be empty exactly for IP literals", got)
	}
	again, err := ParseTarget(got.String(), opts)
	if err != nil {
		t.Fatalf("ParseTarget(%q) (the String of %#v): %v", got.String(), got, err)
	}
	again.Input = got.Input
	if again != got {
		t.Fatalf("String round trip of %q via %q\n got %#v\nwant %#v", got.Input, got.String(), again, got)
	}
	host, port, err := net.SplitHostPort(got.DialAddress())
	if err != nil || host != got.Addr || port != strconv.Itoa(int(got.Port)) {
		t.Fatalf("DialAddress %q does not split into %q and %d (%v)", got.DialAddress(), got.Addr, got.Port, err)
	}
}

func TestTargetStringZero(t *testing.T) {
	if got := (Target{Addr: "example.com", Port: 443}).String(); got != "tls://example.com:443" {
		t.Errorf("String() of a Target without Protocol = %q", got)
	}
}

// fuzzOptions are the option sets every fuzz input is parsed with.
var fuzzOptions = []TargetOptions{
	{},
	{DefaultPort: 8443},
	{STARTTLS: ProtoSMTP},
	{DefaultPort: 2525, STARTTLS: ProtoSubmission},
}

func FuzzParseTarget(f *testing.F) {
	// The committed corpus must exist: a seed folder that silently vanished
	// would leave this fuzz test testing nothing.
	seeds, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParseTarget", "*"))
	if err != nil {
		f.Fatal(err)
	}
	if len(seeds) < 10 {
		f.Fatalf("testdata/fuzz/FuzzParseTarget holds %d seed files; the committed corpus is missing", len(seeds))
	}
	for _, s := range []string{
		"example.com", "example.com:8443", "[2001:db8::1]:443", "2001:db8::1",
		"fe80::1%eth0", "https://user@host/", "smtp://mx.example.com", "1.2.3.4:0",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, opts := range fuzzOptions {
			got, err := ParseTarget(s, opts)
			if err != nil {
				if !errors.Is(err, ErrBadTarget) {
					t.Fatalf("ParseTarget(%q): error %q does not wrap ErrBadTarget", s, err)
				}
				continue
			}
			if got.Input != s {
				t.Fatalf("Input = %q, want %q", got.Input, s)
			}
			checkRoundTrip(t, got, opts)
		}
	})
}

// TestTargetNameKept: a target a list resolved keeps its name in String
// (the record's target field); the address is Addr.
func TestTargetNameKept(t *testing.T) {
	tg := Target{Host: "example.com", Addr: "192.0.2.7", Name: "example.com", Port: 443, Protocol: ProtoHTTPS}
	if got := tg.String(); got != "https://example.com:443" {
		t.Errorf("String() = %q, want the name", got)
	}
	tg.Name = ""
	if got := tg.String(); got != "https://192.0.2.7:443" {
		t.Errorf("String() = %q without Name", got)
	}
}
