package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	// go.yaml.in/yaml/v3 is the YAML organisation's maintained
	// continuation of gopkg.in/yaml.v3 (archived upstream in 2025), with
	// the same API: KnownFields makes unknown keys errors with their line,
	// and duplicate keys are errors too. JSON files are decoded by the
	// same decoder (JSON is YAML 1.2's flow syntax), so both formats get
	// the same strictness and line numbers.
	"go.yaml.in/yaml/v3"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// FileSchema is the value of a policy file's optional "schema" key.
const FileSchema = "tlsmap.policy/1"

// maxFileSize bounds a policy file: real ones are a few hundred bytes.
const maxFileSize = 1 << 20

// file is the shape of a policy file (docs/policies.md).
type file struct {
	Schema      string `yaml:"schema"`
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Extends names a built-in profile the file starts from.
	Extends string `yaml:"extends"`

	MinVersion        *versionValue  `yaml:"min_version"`
	ForbiddenVersions []versionValue `yaml:"forbidden_versions"`

	ForbiddenSuites []suiteRuleValue `yaml:"forbidden_suites"`
	AllowedSuites   []suiteRuleValue `yaml:"allowed_suites"`
	RequirePFS      *bool            `yaml:"require_pfs"`
	RequireAEAD     *bool            `yaml:"require_aead"`

	MinRSABits *int `yaml:"min_rsa_bits"`
	MinECBits  *int `yaml:"min_ec_bits"`
	MinDHBits  *int `yaml:"min_dh_bits"`

	CertExpiryDays       *int  `yaml:"cert_expiry_days"`
	RequireTrustedCert   *bool `yaml:"require_trusted_cert"`
	RequireHostnameMatch *bool `yaml:"require_hostname_match"`
}

// versionValue is a protocol version written "TLSv1.2", "tls1.2", "1.2",
// "ssl3", "sslv2".
type versionValue tls.Version

func (v *versionValue) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a protocol version such as TLSv1.2", n.Line)
	}
	s := strings.TrimSpace(n.Value)
	switch strings.ToLower(s) {
	case "ssl2", "sslv2", "ssl2.0", "sslv2.0":
		*v = versionValue(tls.VersionSSL20)
		return nil
	}
	w, err := tls.ParseVersion(s)
	if err != nil || !slices.Contains(scannable, w) {
		return fmt.Errorf("line %d: protocol version %q: want one of sslv2, sslv3, tls1.0, tls1.1, tls1.2, tls1.3", n.Line, s)
	}
	*v = versionValue(w)
	return nil
}

// scannable are the versions tlsmap scan decides, oldest first.
var scannable = []tls.Version{
	tls.VersionSSL20, tls.VersionSSL30, tls.VersionTLS10,
	tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13,
}

// suiteRuleValue is a suite rule written as a string ("grade:weak",
// "rc4", "0xC013", "AES128-SHA") or as a one-key mapping ({grade: weak},
// {attribute: rc4}, {id: 0xC013}, {name: AES128-SHA}).
type suiteRuleValue SuiteRule

func (r *suiteRuleValue) UnmarshalYAML(n *yaml.Node) error {
	var text string
	switch n.Kind {
	case yaml.ScalarNode:
		text = n.Value
	case yaml.MappingNode:
		if len(n.Content) != 2 || n.Content[1].Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: a suite rule mapping has exactly one key (grade, attribute, id or name) with a scalar value", n.Line)
		}
		k := n.Content[0].Value
		if !slices.Contains([]string{"grade", "attribute", "id", "name"}, k) {
			return fmt.Errorf("line %d: suite rule key %q: want grade, attribute, id or name", n.Content[0].Line, k)
		}
		text = k + ":" + n.Content[1].Value
	default:
		return fmt.Errorf("line %d: want a suite rule such as \"grade:weak\", \"rc4\" or \"ECDHE-RSA-AES128-SHA\"", n.Line)
	}
	sr, err := ParseSuiteRule(text)
	if err != nil {
		return fmt.Errorf("line %d: %s", n.Line, strings.TrimPrefix(err.Error(), ErrInvalid.Error()+" "))
	}
	*r = suiteRuleValue(sr)
	return nil
}

// Parse reads a policy from a YAML or JSON document. name labels errors
// and, when the document has no "name" key, names the policy. Unknown
// keys, duplicate keys, values of the wrong type, unknown versions,
// suites, grades and attributes are errors with their line; so is a
// policy with no rule. Every error wraps ErrInvalid.
func Parse(data []byte, name string) (*Policy, error) {
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%w: %s: larger than %d bytes", ErrInvalid, name, maxFileSize)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%w: %s: empty policy file", ErrInvalid, name)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f file
	if err := dec.Decode(&f); errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %s: empty policy file", ErrInvalid, name)
	} else if err != nil {
		return nil, fmt.Errorf("%w: %s: %s", ErrInvalid, name, yamlError(err))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %s: more than one document (only one policy per file)", ErrInvalid, name)
	}
	p, err := f.policy(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %s", ErrInvalid, name, strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": "))
	}
	return p, nil
}

// yamlError turns the decoder's messages ("yaml: unmarshal errors:\n
// line 3: field x not found in type policy.file") into one line about the
// file's keys.
func yamlError(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var msgs []string
		for _, m := range te.Errors {
			m = strings.Replace(m, "not found in type policy.file", "is not a policy key (see docs/policies.md)", 1)
			m = strings.ReplaceAll(m, "field ", "key ")
			msgs = append(msgs, m)
		}
		return strings.Join(msgs, "; ")
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

func (f *file) policy(fallbackName string) (*Policy, error) {
	if f.Schema != "" && f.Schema != FileSchema {
		return nil, fmt.Errorf("schema %q: this tlsmap reads %q", f.Schema, FileSchema)
	}
	p := &Policy{}
	if f.Extends != "" {
		base, err := Profile(f.Extends)
		if err != nil {
			return nil, fmt.Errorf("extends: %w", err)
		}
		p = base
	}
	p.Name = fallbackName
	if f.Name != "" {
		p.Name = f.Name
	}
	if f.Description != "" {
		p.Description = f.Description
	}
	if f.MinVersion != nil {
		p.MinVersion = tls.Version(*f.MinVersion)
	}
	for _, v := range f.ForbiddenVersions {
		if !slices.Contains(p.ForbiddenVersions, tls.Version(v)) {
			p.ForbiddenVersions = append(p.ForbiddenVersions, tls.Version(v))
		}
	}
	slices.Sort(p.ForbiddenVersions)
	for _, r := range f.ForbiddenSuites {
		p.ForbiddenSuites = append(p.ForbiddenSuites, SuiteRule(r))
	}
	for _, r := range f.AllowedSuites {
		p.AllowedSuites = append(p.AllowedSuites, SuiteRule(r))
	}
	setBool := func(dst *bool, src *bool) {
		if src != nil {
			*dst = *src
		}
	}
	setInt := func(dst *int, src *int) {
		if src != nil {
			*dst = *src
		}
	}
	setBool(&p.RequirePFS, f.RequirePFS)
	setBool(&p.RequireAEAD, f.RequireAEAD)
	setInt(&p.MinRSABits, f.MinRSABits)
	setInt(&p.MinECBits, f.MinECBits)
	setInt(&p.MinDHBits, f.MinDHBits)
	setInt(&p.CertExpiryDays, f.CertExpiryDays)
	setBool(&p.RequireTrustedCert, f.RequireTrustedCert)
	setBool(&p.RequireHostnameMatch, f.RequireHostnameMatch)
	if err := p.validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// Load returns the built-in profile named arg, or, when arg names a file
// (it contains a path separator or ends in .yaml, .yml or .json, or a
// file of that name exists), the policy in that file. Errors wrap
// ErrUnknownProfile or ErrInvalid, or are the file's *fs.PathError.
func Load(arg string) (*Policy, error) {
	if p, err := Profile(arg); err == nil {
		return p, nil
	}
	ext := strings.ToLower(filepath.Ext(arg))
	_, statErr := os.Stat(arg)
	if !strings.ContainsRune(arg, filepath.Separator) && !strings.ContainsRune(arg, '/') &&
		ext != ".yaml" && ext != ".yml" && ext != ".json" && statErr != nil {
		return nil, fmt.Errorf("%w %q: not a built-in profile (%s) nor a policy file", ErrUnknownProfile, arg, strings.Join(ProfileNames(), ", "))
	}
	fh, err := os.Open(arg)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("policy: reading %s: %w", arg, err)
	}
	base := strings.TrimSuffix(filepath.Base(arg), filepath.Ext(arg))
	p, err := Parse(data, arg)
	if err != nil {
		return nil, err
	}
	if p.Name == arg {
		p.Name = base
	}
	return p, nil
}
