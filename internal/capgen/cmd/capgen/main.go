// Command capgen writes the project's derived and hostile test captures
// (internal/capgen); scripts/make-captures.sh runs it.
//
//	capgen encap pppoe|mpls IN.pcap OUT.pcap   the same packets encapsulated (and OUT.truth.json from IN.truth.json)
//	capgen coverage TLS.pcap QUIC.pcap OUT.pcapng
//	capgen hostile TLS.pcap DIR                linktype147.pcap, zeros.pcap.gz, corrupt.pcapng, reordered.pcap
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tlsmap/tlsmap/internal/capgen"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 1 {
		return fmt.Errorf("usage: capgen encap|coverage|hostile …")
	}
	switch args[0] {
	case "encap":
		if len(args) != 4 {
			return fmt.Errorf("usage: capgen encap pppoe|mpls IN.pcap OUT.pcap")
		}
		fs, err := capgen.ReadPcap(args[2])
		if err != nil {
			return err
		}
		enc, err := capgen.Encap(fs, args[1])
		if err != nil {
			return err
		}
		if err := write(args[3], func(w io.Writer) error { return capgen.WritePcap(w, 1, enc) }); err != nil {
			return err
		}
		return truth(args[2], args[3], args[1])
	case "coverage":
		if len(args) != 4 {
			return fmt.Errorf("usage: capgen coverage TLS.pcap QUIC.pcap OUT.pcapng")
		}
		tlsFs, err := capgen.ReadPcap(args[1])
		if err != nil {
			return err
		}
		quicFs, err := capgen.ReadPcap(args[2])
		if err != nil {
			return err
		}
		return write(args[3], func(w io.Writer) error {
			c, err := capgen.Coverage(w, tlsFs, quicFs, capgen.CutAt)
			fmt.Fprintf(os.Stderr, "%s: %+v\n", args[3], c)
			return err
		})
	case "hostile":
		if len(args) != 3 {
			return fmt.Errorf("usage: capgen hostile TLS.pcap DIR")
		}
		fs, err := capgen.ReadPcap(args[1])
		if err != nil {
			return err
		}
		dir := args[2]
		for name, f := range map[string]func(io.Writer) error{
			"linktype147.pcap": func(w io.Writer) error { return capgen.UnknownLinkType(w, fs) },
			"zeros.pcap.gz":    func(w io.Writer) error { return capgen.ZeroFlood(w, fs, capgen.ZeroBytes) },
			"corrupt.pcapng":   func(w io.Writer) error { return capgen.CorruptBlock(w, fs, capgen.CorruptFrame) },
			"reordered.pcap":   func(w io.Writer) error { return capgen.Reordered(w, fs, capgen.ReorderedConns) },
		} {
			if err := write(filepath.Join(dir, name), f); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("capgen: unknown command %q", args[0])
}

func write(path string, f func(io.Writer) error) error {
	var b bytes.Buffer
	if err := f(&b); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// truth writes OUT.truth.json: IN's truth, for the same connections.
func truth(in, out, mode string) error {
	src := strings.TrimSuffix(in, ".pcap") + ".truth.json"
	b, err := os.ReadFile(src)
	if err != nil {
		return nil // no truth to carry over
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("capgen: %s: %w", src, err)
	}
	doc["capture"] = filepath.Base(out)
	doc["generator"] = "scripts/make-captures.sh: capgen encap " + mode + " " + filepath.Base(in)
	doc["note"] = fmt.Sprintf("%s's packets, each IP packet inside %s; the truth is %s's, from each client's own output", filepath.Base(in), mode, filepath.Base(src))
	j, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(strings.TrimSuffix(out, ".pcap")+".truth.json", append(j, '\n'), 0o644)
}
