package pcaptest

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// modulePath identifies the repository root's go.mod.
const modulePath = "github.com/tlsmap/tlsmap"

// PublicDir returns the absolute path of testdata/public at the repository
// root, found by walking up from the working directory (a package
// directory, under go test) to the go.mod of this module.
func PublicDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("pcaptest: %w", err)
	}
	for {
		if isModuleRoot(filepath.Join(dir, "go.mod")) {
			pub := filepath.Join(dir, "testdata", "public")
			if _, err := os.Stat(pub); err != nil {
				return "", fmt.Errorf("pcaptest: %w", err)
			}
			return pub, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("pcaptest: no go.mod of " + modulePath + " above the working directory")
		}
		dir = parent
	}
}

func isModuleRoot(gomod string) bool {
	f, err := os.Open(gomod)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if mod, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.TrimSpace(mod) == modulePath
		}
	}
	return false
}

// Crosscheck is one capture and its tshark dump.
type Crosscheck struct {
	// Name is the capture's path relative to testdata/public, with '/'
	// separators: "zeek/testing/btest/Traces/tls/hrr.pcap".
	Name    string
	Capture string // absolute path of the capture
	TSV     string // absolute path of its .tshark.tsv
}

// tsvDir is where the dumps live, mirroring the captures' paths.
const tsvDir = "tshark-crosscheck"

// Crosschecks lists every capture under testdata/public that has a
// tshark-crosscheck/<name>.tshark.tsv, sorted by name. Finding no dump, or a
// dump whose capture is missing, is an error: a test that globs an emptied
// folder must fail rather than pass having checked nothing.
func Crosschecks() ([]Crosscheck, error) {
	pub, err := PublicDir()
	if err != nil {
		return nil, err
	}
	root := filepath.Join(pub, tsvDir)
	var out []Crosscheck
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".tshark.tsv") {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(strings.TrimSuffix(rel, ".tshark.tsv"))
		capture := filepath.Join(pub, filepath.FromSlash(name))
		if _, err := os.Stat(capture); err != nil {
			return fmt.Errorf("dump %s has no capture: %w", rel, err)
		}
		out = append(out, Crosscheck{Name: name, Capture: capture, TSV: path})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pcaptest: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("pcaptest: no .tshark.tsv under %s", root)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
