package ciphers

import (
	"fmt"
	"slices"
	"sync"
)

// Group is one entry of the named groups registry (supported_groups,
// key_share).
type Group struct {
	ID   uint16
	Name string // IANA's name: "x25519", "secp256r1", "X25519MLKEM768", "ffdhe2048"; "GREASE"
	// Kind is "ecdhe" (elliptic curves), "ffdhe" (RFC 7919 finite fields),
	// "pq" (ML-KEM alone), "pq-hybrid" (ECDH combined with ML-KEM or
	// Kyber), "other" (RFC 8422's explicit curves) or "grease".
	Kind string
	// Bits is the size OpenSSL reports for a key share: the curve or field
	// size (x25519: 253), the FFDHE modulus. For "pq" and "pq-hybrid" it is
	// the security strength of the ML-KEM (or Kyber) part: 128, 192 or 256.
	Bits        int
	Recommended bool   // IANA's Recommended column is "Y"
	Reference   string // "RFC8422", "draft-kwiatkowski-tls-ecdhe-mlkem-03"
}

// SignatureScheme is one entry of the signature scheme registry
// (signature_algorithms, signature_algorithms_cert). TLS 1.2's
// (hash, signature) pairs share its number space.
type SignatureScheme struct {
	ID          uint16
	Name        string // "rsa_pss_rsae_sha256", "ecdsa_sha1", "GREASE"
	Recommended bool   // IANA's Recommended column is "Y"
	Reference   string
}

// ExtensionType is one entry of the extension type registry.
type ExtensionType struct {
	ID        uint16
	Name      string // "server_name", "key_share", "GREASE"
	Reference string // "RFC6066", "draft-vvv-tls-alps"
}

type registryIndex struct {
	groups     map[uint16]int
	schemes    map[uint16]int
	extensions map[uint16]int
}

var registries = sync.OnceValue(func() *registryIndex {
	ix := &registryIndex{
		groups:     make(map[uint16]int, len(groups)),
		schemes:    make(map[uint16]int, len(signatureSchemes)),
		extensions: make(map[uint16]int, len(extensionTypes)),
	}
	for i, g := range groups {
		ix.groups[g.ID] = i
	}
	for i, s := range signatureSchemes {
		ix.schemes[s.ID] = i
	}
	for i, x := range extensionTypes {
		ix.extensions[x.ID] = i
	}
	return ix
})

// Groups returns the named groups, GREASE values included, sorted by ID.
// The slice is a copy.
func Groups() []Group { return slices.Clone(groups[:]) }

// GroupByID returns the named group with this code point.
func GroupByID(id uint16) (Group, bool) {
	i, ok := registries().groups[id]
	if !ok {
		return Group{}, false
	}
	return groups[i], true
}

// GroupName returns the name of a named group, "x25519", or "0x1234" when
// it is unknown.
func GroupName(id uint16) string {
	if g, ok := GroupByID(id); ok {
		return g.Name
	}
	return fmt.Sprintf("0x%04X", id)
}

// SignatureSchemes returns the signature schemes, GREASE values included,
// sorted by ID. The slice is a copy.
func SignatureSchemes() []SignatureScheme { return slices.Clone(signatureSchemes[:]) }

// SignatureSchemeByID returns the signature scheme with this code point.
func SignatureSchemeByID(id uint16) (SignatureScheme, bool) {
	i, ok := registries().schemes[id]
	if !ok {
		return SignatureScheme{}, false
	}
	return signatureSchemes[i], true
}

// SignatureSchemeName returns the name of a signature scheme, or "0x1234"
// when it is unknown.
func SignatureSchemeName(id uint16) string {
	if s, ok := SignatureSchemeByID(id); ok {
		return s.Name
	}
	return fmt.Sprintf("0x%04X", id)
}

// ExtensionTypes returns the extension types, GREASE values included,
// sorted by ID. The slice is a copy.
func ExtensionTypes() []ExtensionType { return slices.Clone(extensionTypes) }

// ExtensionName returns the name of an extension type, "server_name", or
// "0x1234" when it is unknown.
func ExtensionName(id uint16) string {
	if i, ok := registries().extensions[id]; ok {
		return extensionTypes[i].Name
	}
	return fmt.Sprintf("0x%04X", id)
}
