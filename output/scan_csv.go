package output

import (
	"slices"
	"strconv"
)

// ScanCSVColumns are the columns of --format csv (docs/schema/scan.md).
var ScanCSVColumns = []string{
	"target", "address", "status", "error",
	"version", "version_outcome", "version_reason", "server_order",
	"suite_outcome", "server_rank", "id", "name", "openssl_name", "grade", "kex", "auth", "enc", "bits", "pfs",
}

// scanRow is one CSV row.
type scanRow []string

func (r scanRow) Columns() []string { return ScanCSVColumns }
func (r scanRow) Cells() []string   { return r }

// csvRows flattens a record: one row per (version, suite), accepted or
// inconclusive; a version without suites has one row with empty suite
// columns, and an endpoint without versions one row with only its own.
func csvRows(rec *ScanRecord) []scanRow {
	base := []string{rec.Target, rec.Address, rec.Status, rec.Error}
	var rows []scanRow
	row := func(cells ...string) {
		r := append(slices.Clone(base), cells...)
		for len(r) < len(ScanCSVColumns) {
			r = append(r, "")
		}
		rows = append(rows, r)
	}
	for _, v := range rec.Versions {
		vcells := []string{v.Version, v.Outcome, v.Reason, optBool(v.ServerOrder)}
		n := 0
		for _, c := range rec.Ciphers {
			if c.Version != v.Version {
				continue
			}
			n++
			rank := ""
			if c.ServerRank != nil {
				rank = strconv.Itoa(*c.ServerRank)
			}
			row(append(vcells, "accepted", rank, c.ID, c.Name, c.OpenSSLName, c.Grade, c.Kex, c.Auth, c.Enc,
				strconv.Itoa(c.Bits), strconv.FormatBool(c.PFS))...)
		}
		for _, c := range v.inconclusiveCiphers {
			n++
			row(append(vcells, "inconclusive", "", c.ID, c.Name, c.OpenSSLName, c.Grade, c.Kex, c.Auth, c.Enc,
				strconv.Itoa(c.Bits), strconv.FormatBool(c.PFS))...)
		}
		for _, c := range v.cncCiphers {
			n++
			row(append(vcells, "chosen-not-completed", "", c.ID, c.Name, c.OpenSSLName, c.Grade, c.Kex, c.Auth, c.Enc,
				strconv.Itoa(c.Bits), strconv.FormatBool(c.PFS))...)
		}
		if n == 0 {
			row(vcells...)
		}
	}
	if len(rec.Versions) == 0 {
		row()
	}
	return rows
}

func optBool(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}
