//go:build !linux

// Package pgtest runs a PostgreSQL server of the tests' own (on Linux
// only: elsewhere its tests skip).
package pgtest

import (
	"testing"

	"github.com/tlsmap/tlsmap/internal/testenv"
)

// DSN skips t: the tests' PostgreSQL runs on Linux only.
func DSN(t testing.TB) string {
	t.Helper()
	testenv.Missing(t, "the tests' PostgreSQL server runs on Linux only")
	return ""
}

// Stop does nothing here.
func Stop() {}

// Main runs the tests.
func Main(m interface{ Run() int }) int { return m.Run() }
