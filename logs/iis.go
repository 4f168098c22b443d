package logs

import (
	"bytes"
	"net/netip"
	"time"

	"github.com/tlsmap/tlsmap/evidence"
)

// iis reads IIS logs in the W3C extended format: "#Fields:" names the
// space-separated columns, "-" is an empty value and "+" stands for a
// space. The TLS facts are the custom fields Microsoft documents for
// Windows Server 2012 R2 and later — crypt-protocol (CRYPT_PROTOCOL, an
// SP_PROT_* flag), crypt-cipher, crypt-hash and crypt-keyexchange
// (CALG_* ALG_IDs), all in hexadecimal and "-" on plain HTTP.
type iis struct {
	col    [nIISCols]int
	maxCol int
	fields [][]byte
	have   bool // a #Fields line was seen
}

const (
	iisDate = iota
	iisTime
	iisSIP
	iisSPort
	iisCIP
	iisHost
	iisUser
	iisUA
	iisProtocol
	iisCipher
	iisHash
	iisKX
	iisXFF
	iisForwarded
	nIISCols
)

// iisColNames lists, per column, the names a #Fields line may give it
// (custom fields are named by the administrator; these are the names
// Microsoft's documentation and common practice use).
var iisColNames = [nIISCols][]string{
	iisDate:      {"date"},
	iisTime:      {"time"},
	iisSIP:       {"s-ip"},
	iisSPort:     {"s-port"},
	iisCIP:       {"c-ip"},
	iisHost:      {"cs-host", "cs(host)"},
	iisUser:      {"cs-username"},
	iisUA:        {"cs(user-agent)"},
	iisProtocol:  {"crypt-protocol"},
	iisCipher:    {"crypt-cipher"},
	iisHash:      {"crypt-hash"},
	iisKX:        {"crypt-keyexchange"},
	iisXFF:       {"x-forwarded-for", "cs(x-forwarded-for)", "x_forwarded_for"},
	iisForwarded: {"forwarded", "cs(forwarded)"},
}

func newIIS() *iis {
	p := &iis{}
	for i := range p.col {
		p.col[i] = -1
	}
	return p
}

func (p *iis) setColumns(list []byte) {
	for i := range p.col {
		p.col[i] = -1
	}
	p.maxCol = 0
	for i, name := range bytes.Fields(list) {
		low := bytes.ToLower(name)
		for c, names := range iisColNames {
			for _, n := range names {
				if string(low) == n {
					p.col[c] = i
					p.maxCol = max(p.maxCol, i)
				}
			}
		}
	}
	p.have = true
}

func (p *iis) line(b []byte, e *env) string {
	if len(b) == 0 {
		return ""
	}
	if b[0] == '#' {
		if bytes.HasPrefix(b, []byte("#Fields:")) {
			p.setColumns(b[len("#Fields:"):])
			if p.col[iisCIP] < 0 {
				return "iis: #Fields without c-ip"
			}
		}
		return ""
	}
	if !p.have {
		return "iis: a line before any #Fields"
	}
	f := p.fields[:0]
	for len(b) > 0 {
		i := bytes.IndexByte(b, ' ')
		if i < 0 {
			f = append(f, b)
			break
		}
		f = append(f, b[:i])
		b = b[i+1:]
	}
	p.fields = f
	if len(f) <= p.maxCol {
		return "iis: fewer fields than #Fields names"
	}
	get := func(c int) []byte {
		if p.col[c] < 0 {
			return nil
		}
		return dash(f[p.col[c]])
	}
	o := e.newObs(evidence.SourceIIS)
	// W3C date and time are UTC.
	if d, t := get(iisDate), get(iisTime); len(d) > 0 && len(t) > 0 {
		var buf [40]byte
		ts := append(append(append(buf[:0], d...), 'T'), t...)
		tm, n, ok := parseISOTime(append(ts, 'Z'), time.UTC)
		if !ok || n != len(ts)+1 {
			return "iis: bad date or time"
		}
		o.Time = tm
	}
	peer, ok := parseAddr(get(iisCIP))
	if !ok {
		return "iis: bad c-ip"
	}
	if sip, ok := parseAddr(get(iisSIP)); ok {
		port := 0
		if sp := get(iisSPort); len(sp) > 0 {
			port, ok = atoi(sp)
			if !ok || port > 65535 {
				return "iis: bad s-port"
			}
		}
		o.Server = netip.AddrPortFrom(sip, uint16(port))
	}
	o.ServerName = e.str(get(iisHost))
	o.User = e.str(get(iisUser))
	o.UserAgent = e.str(plusToSpace(get(iisUA), &p.fields))
	o.Protocol = "http"
	o.Transport = evidence.TransportPlaintext
	if proto := get(iisProtocol); len(proto) > 0 {
		v, ok := hexUint(proto)
		if !ok {
			return "iis: crypt-protocol is not hexadecimal"
		}
		sp, ok := spProtByFlag(v)
		if !ok {
			return "iis: unknown crypt-protocol flag"
		}
		o.Protocol, o.Transport, o.Version = "https", evidence.TransportTLS, sp.version
		var parts [3]string
		for i, c := range []int{iisCipher, iisHash, iisKX} {
			if v := get(c); len(v) > 0 {
				id, ok := hexUint(v)
				if !ok {
					return "iis: crypt-cipher, crypt-hash or crypt-keyexchange is not hexadecimal"
				}
				parts[i] = calgName(id)
			}
		}
		if text := schannelCipher(parts[0], parts[1], parts[2]); text != "" {
			o.Cipher = evidence.TextCipher(e.str([]byte(text)))
		}
	}
	forwarded(o, peer, get(iisXFF), get(iisForwarded), e)
	return ""
}

// plusToSpace undoes W3C's "+" for a space; scratch is reused.
func plusToSpace(b []byte, _ *[][]byte) []byte {
	if bytes.IndexByte(b, '+') < 0 {
		return b
	}
	return bytes.ReplaceAll(b, []byte("+"), []byte(" "))
}

func (p *iis) flush(*env) {}
