package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/tlsmap/tlsmap/ciphers"
	"github.com/tlsmap/tlsmap/output"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

const ciphersHelp = `Usage: tlsmap ciphers [flags] [NAME-OR-CODE...]

Lists the registry of cipher suites tlsmap knows (IANA, plus code points seen
in the wild), or looks up entries by any of their names or codes: hex
(0xC02F, C02F, 0xC0,0x2F), decimal (49199), IANA name or OpenSSL name.

Examples:
  tlsmap ciphers --version tls1.0 --grade insecure
  tlsmap ciphers --kex rsa --format csv
  tlsmap ciphers 0xC02F ECDHE-RSA-AES128-GCM-SHA256
  tlsmap ciphers --list groups --format jsonl

Flags:
`

func runCiphers(e *env, args []string) int {
	fs := flag.NewFlagSet("ciphers", flag.ContinueOnError)
	var format formatFlag
	fs.Var(&format, "format", "output `format`: table, jsonl or csv (default table)")
	list := fs.String("list", "suites", "`registry` to list: suites, versions, groups, sigschemes, extensions, sslv2")
	ver := fs.String("version", "", "only suites this protocol `version` can negotiate (tls1.0, tls1.2, ssl3 …)")
	grade := fs.String("grade", "", "only suites of this `grade`: insecure, weak, secure, recommended")
	kex := fs.String("kex", "", "only suites with this key `exchange` (rsa, ecdhe, dhe, psk …)")
	auth := fs.String("auth", "", "only suites with this `authentication` (rsa, ecdsa, anon …)")
	enc := fs.String("enc", "", "only suites with this `cipher` (aes, chacha20_poly1305, 3des_ede, rc4 …)")
	pfs := fs.Bool("pfs", false, "only suites with forward secrecy")
	aead := fs.Bool("aead", false, "only AEAD suites")
	all := fs.Bool("all", false, "include the SCSV and GREASE code points")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), ciphersHelp)
		fs.PrintDefaults()
	}
	queries, code, done := e.parseFlags(fs, args)
	if done {
		return code
	}
	f := format.f
	rw := output.NewRowWriter(e.stdout, f)

	if len(queries) > 0 {
		var failed []error
		for _, q := range queries {
			s, err := ciphers.Lookup(q)
			if err != nil {
				failed = append(failed, err)
				continue
			}
			if err := rw.Write(suiteRow(f, s)); err != nil {
				return e.fail(exitFail, err, "")
			}
		}
		if err := rw.Flush(); err != nil {
			return e.fail(exitFail, err, "")
		}
		if len(failed) > 0 {
			return e.fail(exitUsage, errors.Join(failed...), "'tlsmap ciphers' lists every known suite; codes are hex (0xC02F) or decimal, names IANA or OpenSSL")
		}
		return exitOK
	}

	switch strings.ToLower(*list) {
	case "suites", "suite", "ciphers":
	default:
		recs, err := paramRecords(strings.ToLower(*list))
		if err != nil {
			return e.fail(exitUsage, err, "")
		}
		for _, r := range recs {
			if err := rw.Write(r); err != nil {
				return e.fail(exitFail, err, "")
			}
		}
		if err := rw.Flush(); err != nil {
			return e.fail(exitFail, err, "")
		}
		return exitOK
	}

	var vfilter tls.Version
	if *ver != "" {
		v, err := tls.ParseVersion(*ver)
		if err != nil {
			return e.fail(exitUsage, err, "versions are ssl3, tls1.0, tls1.1, tls1.2, tls1.3")
		}
		vfilter = v
	}
	var gfilter ciphers.Grade
	if *grade != "" {
		g, err := ciphers.ParseGrade(*grade)
		if err != nil {
			return e.fail(exitUsage, err, "grades are insecure, weak, secure, recommended")
		}
		gfilter = g
	}
	for _, s := range ciphers.All() {
		if s.Kind != ciphers.KindSuite && !*all {
			continue
		}
		if vfilter != 0 && !s.Versions.Has(vfilter) ||
			*grade != "" && s.Grade != gfilter ||
			*kex != "" && !strings.EqualFold(s.Kex, *kex) ||
			*auth != "" && !strings.EqualFold(s.Auth, *auth) ||
			*enc != "" && !strings.EqualFold(s.Enc, *enc) ||
			*pfs && !s.PFS || *aead && !s.AEAD {
			continue
		}
		if err := rw.Write(suiteRow(f, s)); err != nil {
			return e.fail(exitFail, err, "")
		}
	}
	if err := rw.Flush(); err != nil {
		return e.fail(exitFail, err, "")
	}
	return exitOK
}

func suiteRow(f output.Format, s ciphers.Suite) output.Tabular {
	r := output.NewSuiteRecord(s)
	if f == output.FormatTable {
		return output.SuiteTableRecord{SuiteRecord: r}
	}
	return r
}

func paramRecords(list string) ([]output.ParamRecord, error) {
	var out []output.ParamRecord
	switch list {
	case "versions", "version":
		for _, v := range ciphers.ProtocolVersions() {
			out = append(out, output.ParamRecord{Registry: "version", ID: fmt.Sprintf("0x%04X", uint16(v)), Name: v.String()})
		}
	case "groups", "group", "curves":
		for _, g := range ciphers.Groups() {
			out = append(out, output.ParamRecord{Registry: "group", ID: fmt.Sprintf("0x%04X", g.ID), Name: g.Name,
				Kind: g.Kind, Bits: g.Bits, Recommended: g.Recommended})
		}
	case "sigschemes", "sigscheme", "sigalgs":
		for _, s := range ciphers.SignatureSchemes() {
			out = append(out, output.ParamRecord{Registry: "sigscheme", ID: fmt.Sprintf("0x%04X", s.ID), Name: s.Name,
				Recommended: s.Recommended})
		}
	case "extensions", "extension":
		for _, x := range ciphers.ExtensionTypes() {
			out = append(out, output.ParamRecord{Registry: "extension", ID: fmt.Sprintf("0x%04X", x.ID), Name: x.Name})
		}
	case "sslv2":
		for _, k := range ciphers.SSLv2Kinds() {
			out = append(out, output.ParamRecord{Registry: "sslv2", ID: fmt.Sprintf("0x%06X", k.ID), Name: k.Name,
				OpenSSLName: k.OpenSSLName, Bits: k.Bits, Grade: k.Grade.String()})
		}
	default:
		return nil, fmt.Errorf("unknown registry %q (want suites, versions, groups, sigschemes, extensions or sslv2)", list)
	}
	return out, nil
}
