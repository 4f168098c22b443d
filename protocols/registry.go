package protocols

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// The registry: every registered Protocol, by name, scheme and port.
var registry struct {
	mu       sync.RWMutex
	all      []*Protocol
	byName   map[string]*Protocol
	byScheme map[string]schemeOf
	byPort   map[uint16]schemeOf
}

type schemeOf struct {
	p *Protocol
	s Scheme
}

// Register makes protocols known to scan and sniff, in the order given
// (the order of All, and of the recognisers a sniffer tries). It panics
// on a nameless protocol, a second one of the same name, or a scheme or
// port another registered protocol already has: registration happens at
// start-up (protocols/all) and a clash is a programming error. Two schemes
// of one protocol may share a port (postgres and postgresql on 5432): the
// port is the first one's.
func Register(ps ...*Protocol) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if registry.byName == nil {
		registry.byName = map[string]*Protocol{}
		registry.byScheme = map[string]schemeOf{}
		registry.byPort = map[uint16]schemeOf{}
	}
	for _, p := range ps {
		if err := check(p); err != nil {
			panic(err)
		}
		registry.all = append(registry.all, p)
		registry.byName[p.Name] = p
		for _, s := range p.Schemes {
			registry.byScheme[s.Name] = schemeOf{p, s}
			for _, port := range s.Ports() {
				if _, taken := registry.byPort[port]; !taken {
					registry.byPort[port] = schemeOf{p, s}
				}
			}
		}
	}
}

// check refuses a protocol that cannot be registered; registry.mu is held.
func check(p *Protocol) error {
	switch {
	case p == nil || p.Name == "" || strings.ToLower(p.Name) != p.Name:
		return fmt.Errorf("protocols: Register: protocol without a lower-case name")
	case registry.byName[p.Name] != nil:
		return fmt.Errorf("protocols: Register: %s registered twice", p.Name)
	}
	for _, s := range p.Schemes {
		if s.Name == "" || strings.ToLower(s.Name) != s.Name {
			return fmt.Errorf("protocols: Register: %s: scheme without a lower-case name", p.Name)
		}
		if o, ok := registry.byScheme[s.Name]; ok {
			return fmt.Errorf("protocols: Register: %s: scheme %s is %s's", p.Name, s.Name, o.p.Name)
		}
		for i, port := range s.Ports() {
			if o, ok := registry.byPort[port]; ok {
				return fmt.Errorf("protocols: Register: %s: port %d is %s's (%s)", p.Name, port, o.p.Name, o.s.Name)
			}
			if port == 0 || slices.Contains(s.Ports()[:i], port) {
				return fmt.Errorf("protocols: Register: %s: scheme %s lists port %d twice or a port 0", p.Name, s.Name, port)
			}
		}
		if s.Form == STARTTLS && p.Upgrade == nil {
			return fmt.Errorf("protocols: Register: %s: STARTTLS scheme %s without Upgrade", p.Name, s.Name)
		}
	}
	return nil
}

// Lookup returns the protocol registered under name.
func Lookup(name string) (*Protocol, bool) {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	p, ok := registry.byName[name]
	return p, ok
}

// ForScheme returns the protocol of a URL scheme (lower case) and the
// scheme's port and form.
func ForScheme(scheme string) (*Protocol, Scheme, bool) {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	o, ok := registry.byScheme[scheme]
	return o.p, o.s, ok
}

// ForPort returns the protocol whose scheme has port as its well-known
// port (Port or one of AlsoPorts), and that scheme (465: smtp, smtps,
// Implicit; 3269: ldap, ldaps, Implicit).
func ForPort(port uint16) (*Protocol, Scheme, bool) {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	o, ok := registry.byPort[port]
	return o.p, o.s, ok
}

// All returns the registered protocols in registration order.
func All() []*Protocol {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	return append([]*Protocol(nil), registry.all...)
}

// Schemes returns every registered scheme, in registration order.
func Schemes() []Scheme {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	var out []Scheme
	for _, p := range registry.all {
		out = append(out, p.Schemes...)
	}
	return out
}
