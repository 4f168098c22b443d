package logs

import (
	"net/netip"
	"time"

	"github.com/tlsmap/tlsmap/evidence"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// maxInterned bounds the strings env keeps for reuse; beyond it strings
// are made per line.
const maxInterned = 1 << 16

// maxCiphers bounds the cipher names env remembers the lookup of.
const maxCiphers = 4096

// env is what parsers share: the emit path with the time filter, the
// counters, and caches that keep a line from allocating.
type env struct {
	r        *Reader
	fs       *FileStats // nil while flushing after the last file
	lineNo   int64
	interned map[string]string
	ciphers  map[string]evidence.Cipher
	obs      evidence.Observation // reused for each emit
}

// fileName is the current file's name ("" after the last).
func (e *env) fileName() string {
	if e.fs == nil {
		return ""
	}
	return e.fs.Name
}

// malformed counts a malformed line of the current file.
func (e *env) malformed(reason string) {
	st := &e.r.st
	st.Malformed++
	if e.fs != nil {
		e.fs.Malformed++
	}
	if i, ok := e.r.reasons[reason]; ok {
		st.Reasons[i].Count++
		return
	}
	e.r.reasons[reason] = len(st.Reasons)
	st.Reasons = append(st.Reasons, MalformedReason{Reason: reason, Count: 1, File: e.fileName(), Line: e.lineNo})
}

// newObs returns the reused observation, cleared, for a parser to fill
// and hand to emit.
func (e *env) newObs(src evidence.Source) *evidence.Observation {
	e.obs = evidence.Observation{Source: src}
	return &e.obs
}

// emit hands o on, unless the time filter leaves it out.
func (e *env) emit(o *evidence.Observation) {
	r := e.r
	st := &r.st
	st.Observations++
	if e.fs != nil {
		e.fs.Observations++
	}
	if !r.cfg.Since.IsZero() || !r.cfg.Until.IsZero() {
		switch {
		case o.Time.IsZero():
			st.Undated++
			return
		case !r.cfg.Since.IsZero() && o.Time.Before(r.cfg.Since),
			!r.cfg.Until.IsZero() && !o.Time.Before(r.cfg.Until):
			st.Filtered++
			return
		}
	}
	if o.Client.IsValid() && !o.Balancer && e.isBalancer(o.Client) && !o.Via.IsValid() {
		o.Balancer = true
	}
	if o.Class() == evidence.ClassUnknown {
		st.Unknown[unknownReason(o)]++
	}
	r.emit(o)
}

// isBalancer reports whether a is one of Config.Balancers.
func (e *env) isBalancer(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range e.r.cfg.Balancers {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// str returns b as a string, reusing an earlier copy when there is one.
func (e *env) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := e.interned[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(e.interned) < maxInterned {
		e.interned[s] = s
	}
	return s
}

// cipher resolves a logged cipher name (OpenSSL's or IANA's) to a suite,
// remembering the answer.
func (e *env) cipher(b []byte) evidence.Cipher {
	if len(b) == 0 || (len(b) == 1 && b[0] == '-') {
		return evidence.Cipher{}
	}
	if c, ok := e.ciphers[string(b)]; ok {
		return c
	}
	name := string(b)
	c := evidence.LookupCipher(name)
	if len(e.ciphers) < maxCiphers {
		e.ciphers[name] = c
	}
	return c
}

// version reads a logged version name; ok is false for "" and "-" and
// anything else that is not one.
func (e *env) version(b []byte) (tls.Version, bool) { return evidence.ParseVersionName(b) }

// now is the current time, for inferring years.
func (e *env) now() time.Time { return e.r.cfg.Now() }

// loc is the zone of zoneless timestamps.
func (e *env) loc() *time.Location { return e.r.cfg.Location }

// unknownReason says why o's class is unknown, and what would tell.
func unknownReason(o *evidence.Observation) string {
	switch {
	case o.Via.IsValid() && o.Transport == evidence.TransportUnknown:
		return o.Source.String() + ": requests a balancer forwarded: the client's own TLS is in the balancer's log (or log the balancer's TLS header and give --tls-header)"
	case o.Source == evidence.SourceDovecot:
		return "dovecot: TLS logins without a version: add %k to login_log_format_elements"
	case o.Source == evidence.SourcePostfix && o.Transport == evidence.TransportTLS:
		return "postfix: STARTTLS sessions without a TLS line: set smtpd_tls_loglevel = 1"
	case o.Source == evidence.SourcePostfix:
		return "postfix: sessions without a TLS line, perhaps implicit TLS: set smtpd_tls_loglevel = 1"
	case o.Source == evidence.SourceExchange:
		return "exchange: STARTTLS sessions without a TLS negotiation line"
	}
	return o.Source.String() + ": TLS of a version name tlsmap does not know"
}
