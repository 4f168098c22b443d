package sniff

import (
	"maps"
)

// Outcome is what became of one TCP connection, for the coverage
// accounting: every connection the sniffer tracked ends in exactly one.
type Outcome uint8

// Outcomes, in the order the accounting lists them.
const (
	// OutcomeTLS: TLS from the first byte; a hello was parsed.
	OutcomeTLS Outcome = iota
	// OutcomeTLSAfterProtocol: TLS after a recognised plaintext exchange
	// (STARTTLS, a proxy's CONNECT …); the protocol is named.
	OutcomeTLSAfterProtocol
	// OutcomeTLSAfterPrefix: TLS after plaintext no recogniser knew.
	OutcomeTLSAfterPrefix
	// OutcomePlaintext: a recognised protocol that never upgraded
	// (IMAP without STARTTLS, a refused STARTTLS …).
	OutcomePlaintext
	// OutcomeUnknown: payload of no known protocol, and no TLS hello
	// within the searched window.
	OutcomeUnknown
	// OutcomeNoPayload: no payload byte in either direction.
	OutcomeNoPayload
	// OutcomeMidStream: the capture started inside the connection (no
	// SYN) and no hello was seen.
	OutcomeMidStream
	// OutcomeTruncated: bytes were lost before the hellos were complete:
	// cut by the snaplen, a gap, a malformed stream, the buffer limit, or
	// the connection ended inside a hello.
	OutcomeTruncated
	// OutcomeEvicted: dropped for room (flow table full, memory budget)
	// before the hellos were complete.
	OutcomeEvicted
)

func (o Outcome) String() string {
	switch o {
	case OutcomeTLS:
		return "tls"
	case OutcomeTLSAfterProtocol:
		return "tls-after-protocol"
	case OutcomeTLSAfterPrefix:
		return "tls-after-prefix"
	case OutcomePlaintext:
		return "plaintext"
	case OutcomeUnknown:
		return "unknown"
	case OutcomeNoPayload:
		return "no-payload"
	case OutcomeMidStream:
		return "mid-stream"
	case OutcomeTruncated:
		return "truncated"
	case OutcomeEvicted:
		return "evicted"
	}
	return "outcome(?)"
}

// Losses: why bytes that a hello needed were not seen (conn.lost).
const (
	lostSnaplen   = 1 << iota // cut by the capture's snaplen
	lostGap                   // a hole in the stream (not captured)
	lostMalformed             // the stream did not decode as TLS
	lostBuffer                // the per-direction buffer limit
	lostMemory                // the global memory budget
	lostEvicted               // the flow table was full
)

// lossNames name the losses in TCPOutcomes.TruncatedBy.
var lossNames = []string{"snaplen", "gap", "malformed", "buffer limit", "memory budget", "evicted"}

// TCPOutcomes counts the TCP connections by outcome. Every connection
// ended (emitted) counts once, in Total and in one of the others.
type TCPOutcomes struct {
	Total uint64
	// TLS from the first byte.
	TLS uint64
	// TLSAfter counts TLS after a recognised protocol, by protocol
	// ("smtp", "http-connect" …).
	TLSAfter map[string]uint64
	// TLSAfterPrefix counts TLS after an unknown plaintext prefix.
	TLSAfterPrefix uint64
	// Plaintext counts recognised protocols that never upgraded, by
	// protocol.
	Plaintext map[string]uint64
	// Unknown counts connections with payload of no known protocol and
	// no TLS within the window; UnknownPorts counts them by server port.
	Unknown      uint64
	UnknownPorts map[uint16]uint64
	NoPayload    uint64
	MidStream    uint64
	// Truncated counts the connections that lost bytes before their
	// hellos were complete; TruncatedBy counts them by loss ("snaplen",
	// "gap", "malformed", "buffer limit", "memory budget", "incomplete":
	// the connection ended inside a hello), a connection under each of
	// its losses. Those with a ClientHello are also TLS connections of
	// the report (their offer is known, the server's answer is not).
	Truncated   uint64
	TruncatedBy map[string]uint64
	// Evicted counts the connections dropped for room before their
	// hellos were complete.
	Evicted uint64
}

func (o *TCPOutcomes) clone() TCPOutcomes {
	c := *o
	c.TLSAfter = maps.Clone(o.TLSAfter)
	c.Plaintext = maps.Clone(o.Plaintext)
	c.UnknownPorts = maps.Clone(o.UnknownPorts)
	c.TruncatedBy = maps.Clone(o.TruncatedBy)
	return c
}

func bump[K comparable](m *map[K]uint64, k K) {
	if *m == nil {
		*m = map[K]uint64{}
	}
	(*m)[k]++
}

// sideComplete reports whether direction side's hello has been parsed:
// the ClientHello for the client, the ServerHello for the server.
func (c *conn) sideComplete(side int) bool {
	if c.flow == nil || c.client < 0 {
		return false
	}
	if side == c.client {
		return c.flow.ClientHello != nil
	}
	return c.shDone
}

// lose records a loss of direction side (-1: the connection) with its
// note; it counts for the outcome only while that side's hello (either
// hello, for the connection) is not complete.
func (c *conn) lose(side int, why int, note string) {
	if note != "" {
		c.note(note)
	}
	if side >= 0 && c.sideComplete(side) || side < 0 && c.sideComplete(0) && c.sideComplete(1) {
		return
	}
	c.lost |= why
}

// midStream reports whether the capture started inside the connection.
func (c *conn) midStream() bool {
	return !c.synSeen && !c.dir[0].synSeen && !c.dir[1].synSeen
}

// serverSide is the side taken for the server: the known one, else the
// one on a well-known port (< 1024) facing a higher one, else side 1.
func (c *conn) serverSide() int {
	if c.client >= 0 {
		return 1 - c.client
	}
	if c.addr[0].Port() < 1024 && c.addr[1].Port() >= 1024 {
		return 0
	}
	return 1
}

// outcome classifies a connection that has ended.
func (c *conn) outcome() Outcome {
	hello := c.flow != nil && (c.flow.ClientHello != nil || c.shDone)
	switch {
	case c.lost&(lostEvicted|lostMemory) != 0 && !hello:
		return OutcomeEvicted
	case c.lost != 0 && !(c.sideComplete(0) && c.sideComplete(1)):
		return OutcomeTruncated
	case hello && c.afterPrefix:
		return OutcomeTLSAfterPrefix
	case hello && (c.starttls || c.target != ""):
		return OutcomeTLSAfterProtocol
	case hello:
		return OutcomeTLS
	case c.tlsSeen && c.midStream():
		return OutcomeMidStream
	case c.tlsSeen:
		return OutcomeTruncated // the connection ended inside a hello
	case c.protocol != "":
		return OutcomePlaintext
	case c.bytes == 0:
		return OutcomeNoPayload
	case c.midStream():
		return OutcomeMidStream
	}
	return OutcomeUnknown
}

// countOutcome adds an ended connection to the accounting.
func (s *Sniffer) countOutcome(c *conn) {
	o := &s.st.TCP
	o.Total++
	switch oc := c.outcome(); oc {
	case OutcomeTLS:
		o.TLS++
	case OutcomeTLSAfterProtocol:
		bump(&o.TLSAfter, c.protocol)
	case OutcomeTLSAfterPrefix:
		o.TLSAfterPrefix++
	case OutcomePlaintext:
		bump(&o.Plaintext, c.protocol)
	case OutcomeUnknown:
		o.Unknown++
		bump(&o.UnknownPorts, c.addr[c.serverSide()].Port())
	case OutcomeNoPayload:
		o.NoPayload++
	case OutcomeMidStream:
		o.MidStream++
	case OutcomeTruncated:
		o.Truncated++
		if c.lost == 0 {
			bump(&o.TruncatedBy, "incomplete")
		}
		for i, name := range lossNames {
			if c.lost&(1<<i) != 0 {
				bump(&o.TruncatedBy, name)
			}
		}
	case OutcomeEvicted:
		o.Evicted++
	}
}
