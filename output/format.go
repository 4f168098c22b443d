// Package output renders tlsmap's results for people (an aligned terminal
// table) and for machines (JSON Lines and CSV). Every record type has one
// JSON shape, documented under docs/, whose field names are stable; the CSV
// columns are the same names in the same order.
package output

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Format is an output format.
type Format uint8

// Output formats every tlsmap command takes.
const (
	FormatTable Format = iota
	FormatJSONL
	FormatCSV
)

// ErrFormat is wrapped by ParseFormat for a name it does not know.
var ErrFormat = errors.New("output: unknown format")

// ParseFormat maps "table", "jsonl" (or "json") and "csv" to a Format.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "table", "text", "":
		return FormatTable, nil
	case "jsonl", "json":
		return FormatJSONL, nil
	case "csv":
		return FormatCSV, nil
	}
	return 0, fmt.Errorf("%w %q (want table, jsonl or csv)", ErrFormat, s)
}

func (f Format) String() string {
	switch f {
	case FormatTable:
		return "table"
	case FormatJSONL:
		return "jsonl"
	case FormatCSV:
		return "csv"
	}
	return fmt.Sprintf("format(%d)", uint8(f))
}

// Tabular is a record that can be shown as a table row and a CSV row, and
// marshalled as one JSON object.
type Tabular interface {
	// Columns returns the column names; the same for every record of a type.
	Columns() []string
	// Cells returns the row's values in Columns order.
	Cells() []string
}

// RowWriter streams records of one type in one format. Call Write for each
// record and Flush once at the end (the table aligns columns over all rows
// and so writes only at Flush; JSON Lines and CSV write as they go).
type RowWriter struct {
	format Format
	w      io.Writer
	enc    *json.Encoder
	csv    *csv.Writer
	tab    *tabwriter.Writer
	header bool
}

// NewRowWriter returns a RowWriter writing format f to w.
func NewRowWriter(w io.Writer, f Format) *RowWriter {
	rw := &RowWriter{format: f, w: w}
	switch f {
	case FormatJSONL:
		rw.enc = newJSONLEncoder(w)
	case FormatCSV:
		rw.csv = csv.NewWriter(w)
	default:
		rw.tab = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	}
	return rw
}

// newJSONLEncoder returns the encoder of JSON Lines: one object a line,
// "<", ">" and "&" left as they are.
func newJSONLEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

// Write writes one record: in JSON Lines the record itself is marshalled,
// so it must carry the json tags of its documented schema.
func (rw *RowWriter) Write(r Tabular) error {
	switch rw.format {
	case FormatJSONL:
		return rw.enc.Encode(r)
	case FormatCSV:
		if !rw.header {
			rw.header = true
			if err := rw.csv.Write(r.Columns()); err != nil {
				return err
			}
		}
		if err := rw.csv.Write(r.Cells()); err != nil {
			return err
		}
		return nil
	default:
		if !rw.header {
			rw.header = true
			cols := r.Columns()
			up := make([]string, len(cols))
			for i, c := range cols {
				up[i] = strings.ToUpper(c)
			}
			if _, err := fmt.Fprintln(rw.tab, strings.Join(up, "\t")); err != nil {
				return err
			}
		}
		cells := r.Cells()
		for i, c := range cells {
			if c == "" {
				cells[i] = "-"
			}
		}
		_, err := fmt.Fprintln(rw.tab, strings.Join(cells, "\t"))
		return err
	}
}

// Flush writes what is buffered.
func (rw *RowWriter) Flush() error {
	switch rw.format {
	case FormatCSV:
		rw.csv.Flush()
		return rw.csv.Error()
	case FormatTable:
		return rw.tab.Flush()
	}
	return nil
}
