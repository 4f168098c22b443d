// Package store keeps what tlsmap learns across runs: every scan's result
// per endpoint, and the connections that captures and logs saw, aggregated
// per day × client × server endpoint × protocol × negotiated version ×
// cipher × fingerprint × SNI, with the coverage of each evidence source.
// `tlsmap report` (package readiness) reads it back.
//
// One logical schema (docs/schema/store.md) lives in two dialects: SQLite
// (a file; modernc.org/sqlite, pure Go) and PostgreSQL (jackc/pgx), each
// with its versioned migrations embedded (pressly/goose). Writes are
// batched in transactions; several processes may write one PostgreSQL
// store at once (upserts add counts, never overwrite them).
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

//go:embed migrations
var migrations embed.FS

// Dialect names the database behind a store.
type Dialect string

// The dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// ErrStore is wrapped by every error of Open about the store itself (not
// reachable, not a store, a newer schema).
var ErrStore = errors.New("store: cannot open the store")

// Store is an open store. It is safe for concurrent use.
type Store struct {
	db      *sql.DB
	dialect Dialect
	where   string // the path or the URL without its password, for messages

	mu    sync.Mutex
	stmts map[string]*sql.Stmt // prepared statements, by query
}

// IsPostgres reports whether dsn names a PostgreSQL store (a postgres://
// or postgresql:// URL) rather than an SQLite file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open opens the store dsn — an SQLite file path (created when missing)
// or a postgres:// URL — and brings its schema up to date. ctx bounds the
// opening only.
func Open(ctx context.Context, dsn string) (*Store, error) {
	if dsn == "" {
		return nil, fmt.Errorf("%w: no store given", ErrStore)
	}
	s := &Store{dialect: SQLite, where: dsn}
	var (
		db  *sql.DB
		err error
	)
	if IsPostgres(dsn) {
		s.dialect = Postgres
		s.where = redact(dsn)
		db, err = sql.Open("pgx", dsn)
		if err == nil {
			db.SetMaxOpenConns(4)
		}
	} else {
		if fi, serr := os.Stat(dsn); serr == nil && fi.IsDir() {
			return nil, fmt.Errorf("%w: %s is a directory", ErrStore, dsn)
		}
		if dir := filepath.Dir(dsn); dir != "" {
			if _, serr := os.Stat(dir); serr != nil {
				return nil, fmt.Errorf("%w: %v", ErrStore, serr)
			}
		}
		// WAL: readers never block the writer; synchronous=NORMAL keeps
		// every committed transaction across a crash of the process (an
		// OS crash may lose the last ones, never corrupt the file);
		// BEGIN IMMEDIATE so that two writers wait for each other
		// (busy_timeout) instead of failing on a lock upgrade.
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(30000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Add("_pragma", "foreign_keys(ON)")
		// A multi-row upsert keeps the pages it changes in a statement
		// journal (to undo that one statement); past 64 KiB SQLite
		// spills it to a temporary file, a pwrite a page. In memory
		// instead: that journal has no part in crash recovery (the WAL
		// has), so what a crash keeps is the same.
		q.Add("_pragma", "temp_store(MEMORY)")
		q.Set("_txlock", "immediate")
		db, err = sql.Open("sqlite", "file:"+dsn+"?"+q.Encode())
		if err == nil {
			// One connection: SQLite has one writer at a time anyway,
			// and a single connection keeps the pragmas and the
			// prepared statements in one place.
			db.SetMaxOpenConns(1)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrStore, s.where, err)
	}
	s.db = db
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("%w: %s: %v", ErrStore, s.where, err)
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// redact drops the password from a URL.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://…"
	}
	return u.Redacted()
}

// migrate applies the embedded migrations of the store's dialect. On
// PostgreSQL an advisory lock keeps concurrent openers from racing; on
// SQLite a racing opener's failed migration is retried once the other has
// finished (its transaction held the write lock).
func (s *Store) migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations/"+string(s.dialect))
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	var opts []goose.ProviderOption
	dialect := goose.DialectSQLite3
	if s.dialect == Postgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
		if err != nil {
			return fmt.Errorf("store: migrations: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, s.db, sub, opts...)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	for attempt := 0; ; attempt++ {
		// A store made by a newer tlsmap has versions this one does not
		// know: refuse rather than write into a schema it does not
		// understand.
		cur, err := p.GetDBVersion(ctx)
		if err == nil {
			last := lastVersion(p)
			if cur > last {
				return fmt.Errorf("%w: %s has schema version %d, this tlsmap knows up to %d (a newer tlsmap made it)", ErrStore, s.where, cur, last)
			}
			if cur == last {
				return nil // up to date: no lock taken
			}
		}
		_, err = p.Up(ctx)
		if err == nil {
			return nil
		}
		if s.dialect == SQLite && attempt < 3 && ctx.Err() == nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		return fmt.Errorf("%w: %s: migrating the schema: %v", ErrStore, s.where, err)
	}
}

func lastVersion(p *goose.Provider) int64 {
	var last int64
	for _, m := range p.ListSources() {
		last = max(last, m.Version)
	}
	return last
}

// SchemaVersion returns the store's schema version (the last migration
// applied).
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied").Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v, nil
}

// Dialect returns the store's database.
func (s *Store) Dialect() Dialect { return s.dialect }

// String names the store (its path, or its URL without the password).
func (s *Store) String() string { return s.where }

// DB returns the database handle, for tests and benchmarks.
func (s *Store) DB() *sql.DB { return s.db }

// Close closes the store.
func (s *Store) Close() error {
	s.mu.Lock()
	for _, st := range s.stmts {
		st.Close()
	}
	s.stmts = nil
	s.mu.Unlock()
	return s.db.Close()
}

// prepare prepares query, once per store. It must be called while no
// transaction holds SQLite's one connection (before a batch's
// transaction begins).
func (s *Store) prepare(ctx context.Context, query string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.stmts[query]; ok {
		return nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return fmt.Errorf("store: preparing: %w", err)
	}
	if s.stmts == nil {
		s.stmts = map[string]*sql.Stmt{}
	}
	s.stmts[query] = st
	return nil
}

// prepared returns query's prepared statement, or nil.
func (s *Store) prepared(query string) *sql.Stmt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stmts[query]
}

// q rewrites a query written with ? placeholders for the store's dialect
// ($1, $2 … for PostgreSQL). Queries hold no ? inside literals.
func (s *Store) q(query string) string {
	if s.dialect != Postgres {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// inTx runs f in a transaction and commits it, or rolls it back when f
// fails.
func (s *Store) inTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// withPgx runs f on one connection of a PostgreSQL store, with pgx's own
// API (COPY, batches).
func (s *Store) withPgx(ctx context.Context, f func(c *pgx.Conn) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: not a pgx connection: %T", dc)
		}
		return f(c.Conn())
	})
}

// Day is a UTC calendar day, counted from 1970-01-01 (day 0).
type Day int64

// DayOf returns the UTC day of t.
func DayOf(t time.Time) Day {
	sec := t.Unix()
	d := sec / 86400
	if sec < 0 && sec%86400 != 0 {
		d--
	}
	return Day(d)
}

// Time returns the day's first instant (00:00 UTC).
func (d Day) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// String returns the day as 2006-01-02.
func (d Day) String() string { return d.Time().Format(time.DateOnly) }

// ns converts a time to the store's Unix nanoseconds; the zero time is 0.
func ns(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNS converts the store's Unix nanoseconds back; 0 is the zero time.
func fromNS(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
