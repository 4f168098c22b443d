package tls

import (
	"bytes"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

func TestExtensionBuilders(t *testing.T) {
	cases := []struct {
		name string
		ext  Extension
		typ  uint16
		hex  string
	}{
		{"server_name", ServerNameExtension("a.example"), 0, "000c" + "00" + "0009" + "612e6578616d706c65"},
		{"supported_versions", SupportedVersionsExtension(0x0304, 0x0303), 43, "04" + "0304" + "0303"},
		{"supported_groups", SupportedGroupsExtension(0x001d, 0x0017), 10, "0004" + "001d" + "0017"},
		{"supported_groups empty", SupportedGroupsExtension(), 10, "0000"},
		{"key_share empty", KeyShareExtension(), 51, "0000"},
		{"key_share", KeyShareExtension(KeyShare{Group: 0x001d, Data: []byte{0xaa, 0xbb}}, KeyShare{Group: 0x0a0a, Data: []byte{0}}),
			51, "000b" + "001d" + "0002" + "aabb" + "0a0a" + "0001" + "00"},
		{"signature_algorithms", SignatureAlgorithmsExtension(0x0403, 0x0804), 13, "0004" + "0403" + "0804"},
		{"signature_algorithms_cert", SignatureAlgorithmsCertExtension(0x0401), 50, "0002" + "0401"},
		{"alpn", ALPNExtension("h2", "http/1.1"), 16, "000c" + "02" + "6832" + "08" + "687474702f312e31"},
		{"ec_point_formats", ECPointFormatsExtension(0, 1, 2), 11, "03" + "000102"},
		{"renegotiation_info initial", RenegotiationInfoExtension(nil), 0xff01, "00"},
		{"renegotiation_info", RenegotiationInfoExtension([]byte{1, 2, 3}), 0xff01, "03" + "010203"},
		{"extended_master_secret", ExtendedMasterSecretExtension(), 23, ""},
		{"encrypt_then_mac", EncryptThenMACExtension(), 22, ""},
		{"session_ticket empty", SessionTicketExtension(nil), 35, ""},
		{"session_ticket", SessionTicketExtension([]byte{1, 2}), 35, "0102"},
		{"status_request", StatusRequestExtension(), 5, "01" + "0000" + "0000"},
		{"psk_key_exchange_modes", PSKKeyExchangeModesExtension(1), 45, "01" + "01"},
		{"padding", PaddingExtension(3), 21, "000000"},
		{"padding negative", PaddingExtension(-1), 21, ""},
		{"raw grease", RawExtension(0xfafa, []byte{9}), 0xfafa, "09"},
		{"raw nil", RawExtension(0x1a1a, nil), 0x1a1a, ""},
	}
	for _, c := range cases {
		if c.ext.Type != c.typ {
			t.Errorf("%s: type %#04x, want %#04x", c.name, c.ext.Type, c.typ)
		}
		if got := hex.EncodeToString(c.ext.Data); got != c.hex {
			t.Errorf("%s: data %s, want %s", c.name, got, c.hex)
		}
		if c.ext.Data == nil {
			t.Errorf("%s: nil data; builders return non-nil data", c.name)
		}
	}
}

func TestExtensionBuildersCopyInput(t *testing.T) {
	in := []byte{1, 2, 3}
	exts := []Extension{SessionTicketExtension(in), RawExtension(7, in), RenegotiationInfoExtension(in), ECPointFormatsExtension(in...)}
	in[0] = 0xff
	for _, e := range exts {
		if bytes.IndexByte(e.Data, 0xff) >= 0 {
			t.Errorf("extension %d aliases its input", e.Type)
		}
	}
}

func TestExtensionBuildersUnencodable(t *testing.T) {
	long := strings.Repeat("x", 1<<16)
	cases := map[string]Extension{
		"server_name":            ServerNameExtension(long),
		"alpn name 256":          ALPNExtension("h2", long[:256]),
		"versions 128":           SupportedVersionsExtension(make([]uint16, 128)...),
		"groups 32768":           SupportedGroupsExtension(make([]uint16, 1<<15)...),
		"ec_point_formats 256":   ECPointFormatsExtension(make([]uint8, 256)...),
		"renegotiation_info 256": RenegotiationInfoExtension(make([]byte, 256)),
		"psk modes 256":          PSKKeyExchangeModesExtension(make([]uint8, 256)...),
		"key_share 65536":        KeyShareExtension(KeyShare{Group: 1, Data: make([]byte, 1<<16)}),
		"padding 65536":          PaddingExtension(1 << 16),
	}
	for name, e := range cases {
		m := chMinimalTLS10()
		m.Extensions = []Extension{e}
		if _, err := m.Marshal(); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: Marshal error %v, want ErrTooLarge", name, err)
		}
	}
}

func TestDecodeExtensions(t *testing.T) {
	raw := func(typ uint16, h string) Extension {
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		return RawExtension(typ, b)
	}
	cases := []struct {
		name  string
		exts  []Extension
		field string // "" for success
		check func(*ClientHello) bool
	}{
		{"absent", nil, "", func(m *ClientHello) bool {
			return m.ServerName == "" && m.SupportedVersions == nil && m.SupportedGroups == nil && m.KeyShareGroups == nil &&
				m.SignatureAlgorithms == nil && m.ALPN == nil && m.ECPointFormats == nil
		}},
		{"sni skips other name types", []Extension{raw(0, "0009"+"01"+"0002"+"abcd"+"00"+"0001"+"79")}, "",
			func(m *ClientHello) bool { return m.ServerName == "y" }},
		{"sni only other name type", []Extension{raw(0, "0005"+"05"+"0002"+"abcd")}, "",
			func(m *ClientHello) bool { return m.ServerName == "" }},
		{"sni empty list", []Extension{raw(0, "0000")}, "", func(m *ClientHello) bool { return m.ServerName == "" }},
		{"sni two host names", []Extension{raw(0, "0008"+"00"+"0001"+"78"+"00"+"0001"+"79")}, "server_name", nil},
		{"sni empty data", []Extension{raw(0, "")}, "server_name", nil},
		{"sni trailing", []Extension{raw(0, "0004"+"00"+"0001"+"78"+"00")}, "server_name", nil},
		{"sni entry overruns", []Extension{raw(0, "0004"+"00"+"0002"+"78")}, "server_name", nil},
		{"versions", []Extension{raw(43, "06"+"7a7a"+"0304"+"0303")}, "",
			func(m *ClientHello) bool { return slices.Equal(m.SupportedVersions, []uint16{0x7a7a, 0x0304, 0x0303}) }},
		{"versions empty list", []Extension{raw(43, "00")}, "",
			func(m *ClientHello) bool { return m.SupportedVersions != nil && len(m.SupportedVersions) == 0 }},
		{"versions odd", []Extension{raw(43, "03"+"0304"+"03")}, "supported_versions", nil},
		{"versions trailing", []Extension{raw(43, "02"+"0304"+"00")}, "supported_versions", nil},
		{"versions server form", []Extension{raw(43, "0304")}, "supported_versions", nil},
		{"groups odd", []Extension{raw(10, "0003"+"001d"+"00")}, "supported_groups", nil},
		{"groups overrun", []Extension{raw(10, "0004"+"001d")}, "supported_groups", nil},
		{"key_share groups", []Extension{raw(51, "000c"+"1a1a"+"0001"+"00"+"001d"+"0003"+"010203")}, "",
			func(m *ClientHello) bool { return slices.Equal(m.KeyShareGroups, []uint16{0x1a1a, 0x001d}) }},
		{"key_share empty key", []Extension{raw(51, "0004"+"001d"+"0000")}, "",
			func(m *ClientHello) bool { return slices.Equal(m.KeyShareGroups, []uint16{0x001d}) }},
		{"key_share truncated entry", []Extension{raw(51, "0003"+"001d"+"00")}, "key_share", nil},
		{"key_share HRR form", []Extension{raw(51, "001d")}, "key_share", nil},
		{"signature_algorithms odd", []Extension{raw(13, "0001"+"04")}, "signature_algorithms", nil},
		{"alpn", []Extension{raw(16, "0006"+"02"+"6832"+"00"+"01"+"78")}, "",
			func(m *ClientHello) bool { return slices.Equal(m.ALPN, []string{"h2", "", "x"}) }},
		{"alpn name overruns", []Extension{raw(16, "0003"+"05"+"6832")}, "application_layer_protocol_negotiation", nil},
		{"ec_point_formats", []Extension{raw(11, "02"+"0001")}, "",
			func(m *ClientHello) bool { return bytes.Equal(m.ECPointFormats, []byte{0, 1}) }},
		{"ec_point_formats trailing", []Extension{raw(11, "01"+"0001")}, "ec_point_formats", nil},
		{"undecoded known and unknown extensions kept raw", []Extension{raw(0xff01, "ffff"), raw(5, "zz"[:0]), raw(0x0a0a, "01"), raw(41, "00")}, "",
			func(m *ClientHello) bool { return len(m.Extensions) == 4 }},
		{"duplicate", []Extension{raw(11, "0100"), raw(10, "0000"), raw(11, "0100")}, "duplicate ec_point_formats", nil},
	}
	for _, c := range cases {
		m := &ClientHello{Extensions: c.exts, ServerName: "stale", ALPN: []string{"stale"}}
		err := DecodeExtensions(m)
		if c.field == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			} else if !c.check(m) {
				t.Errorf("%s: decoded %+v", c.name, m)
			}
			continue
		}
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Err != ErrMalformed || pe.Field != c.field || pe.What != "ClientHello" {
			t.Errorf("%s: error %v, want ClientHello %s malformed", c.name, err, c.field)
		}
	}
}

func TestDecodeExtensionsDoesNotAlias(t *testing.T) {
	m := &ClientHello{Extensions: []Extension{ALPNExtension("h2"), ECPointFormatsExtension(0), ServerNameExtension("x")}}
	if err := DecodeExtensions(m); err != nil {
		t.Fatal(err)
	}
	for _, e := range m.Extensions {
		for i := range e.Data {
			e.Data[i] = 0x55
		}
	}
	if m.ALPN[0] != "h2" || m.ECPointFormats[0] != 0 || m.ServerName != "x" {
		t.Errorf("decoded fields alias extension data: %q %v %q", m.ALPN, m.ECPointFormats, m.ServerName)
	}
}

// extAppendList writes exts as a sequence of Extension structures without
// the block's length: the input format of FuzzDecodeExtensions.
func extAppendList(exts []Extension) []byte {
	b := cryptobyte.NewBuilder(nil)
	for _, e := range exts {
		b.AddUint16(e.Type)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(e.Data) })
	}
	return b.BytesOrPanic()
}

func extFuzzSeeds(t testing.TB) map[string][]byte {
	seeds := map[string][]byte{
		"chrome-like": extAppendList(chChromeLike(t).Extensions),
		"all-decoded": extAppendList([]Extension{
			ServerNameExtension("seed.example"), SupportedVersionsExtension(0x0304), SupportedGroupsExtension(0x1d),
			KeyShareExtension(KeyShare{Group: 0x1d, Data: make([]byte, 32)}), SignatureAlgorithmsExtension(0x0403),
			ALPNExtension("h2"), ECPointFormatsExtension(0),
		}),
		"odd-lengths": extAppendList([]Extension{
			{Type: ExtSupportedGroups, Data: []byte{0, 3, 0, 0x1d, 0}},
			{Type: ExtServerName, Data: []byte{0, 4, 2, 0, 1, 'x'}},
		}),
		"duplicate": extAppendList([]Extension{ALPNExtension("h2"), ALPNExtension("h3")}),
		"empty-lists": extAppendList([]Extension{
			{Type: ExtSupportedVersions, Data: []byte{0}}, {Type: ExtKeyShare, Data: []byte{0, 0}},
			{Type: ExtALPN, Data: []byte{0, 1, 0}}, {Type: ExtECPointFormats, Data: []byte{0}},
		}),
	}
	return seeds
}

func FuzzDecodeExtensions(f *testing.F) {
	chRequireSeeds(f, "FuzzDecodeExtensions")
	f.Fuzz(func(t *testing.T, data []byte) {
		s := cryptobyte.String(data)
		m := &ClientHello{}
		for !s.Empty() {
			var e Extension
			if !s.ReadUint16(&e.Type) || !s.ReadUint16LengthPrefixed((*cryptobyte.String)(&e.Data)) {
				return
			}
			m.Extensions = append(m.Extensions, e)
		}
		err := DecodeExtensions(m)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Err != ErrMalformed || pe.Field == "" {
				t.Fatalf("error %v is not a malformed ParseError with a field", err)
			}
			return
		}
		if _, dup := extDuplicate(m.Extensions); dup {
			t.Fatal("duplicate accepted")
		}
		// What is decoded is the whole content: building it again gives the
		// same bytes.
		for _, e := range m.Extensions {
			var again Extension
			switch e.Type {
			case ExtSupportedVersions:
				again = SupportedVersionsExtension(m.SupportedVersions...)
			case ExtSupportedGroups:
				again = SupportedGroupsExtension(m.SupportedGroups...)
			case ExtSignatureAlgorithms:
				again = SignatureAlgorithmsExtension(m.SignatureAlgorithms...)
			case ExtALPN:
				again = ALPNExtension(m.ALPN...)
			case ExtECPointFormats:
				again = ECPointFormatsExtension(m.ECPointFormats...)
			case ExtKeyShare:
				var ks cryptobyte.String
				outer := cryptobyte.String(e.Data)
				outer.ReadUint16LengthPrefixed(&ks)
				for _, g := range m.KeyShareGroups {
					var group uint16
					var kx cryptobyte.String
					if !ks.ReadUint16(&group) || group != g || !ks.ReadUint16LengthPrefixed(&kx) {
						t.Fatalf("key_share groups %v do not match %x", m.KeyShareGroups, e.Data)
					}
				}
				if !ks.Empty() {
					t.Fatalf("key_share groups %v miss entries of %x", m.KeyShareGroups, e.Data)
				}
				continue
			default:
				continue
			}
			if !bytes.Equal(again.Data, e.Data) {
				t.Fatalf("extension %d: decoded and rebuilt %x, was %x", e.Type, again.Data, e.Data)
			}
		}
	})
}
