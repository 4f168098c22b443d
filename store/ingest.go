package store

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// SourceKind says what an evidence source is.
type SourceKind string

// The kinds of evidence source. A file is known by its content hash, so
// that storing it again adds nothing; a stream (standard input) or a live
// capture is new traffic every time.
const (
	KindCapture   SourceKind = "capture"    // a capture file
	KindStream    SourceKind = "stream"     // a capture read from standard input
	KindLive      SourceKind = "live"       // a live capture on an interface
	KindLog       SourceKind = "log"        // a log file
	KindLogStream SourceKind = "log-stream" // a log read from standard input
)

// byContent reports whether sources of kind k are known by content hash.
func (k SourceKind) byContent() bool { return k == KindCapture || k == KindLog }

// Evidence returns the evidence kind of k's facts: capture or log.
func (k SourceKind) Evidence() Evidence {
	if k == KindLog || k == KindLogStream {
		return EvidenceLog
	}
	return EvidenceCapture
}

// Evidence is where a fact comes from.
type Evidence string

// The kinds of evidence.
const (
	EvidenceCapture Evidence = "capture"
	EvidenceLog     Evidence = "log"
)

// SourceState is where the ingest of a source stands.
type SourceState string

// The states of a source.
const (
	// StateRunning: a process is storing it (or died doing so: see
	// Source.Host and PID).
	StateRunning SourceState = "running"
	// StateComplete: stored to its end.
	StateComplete SourceState = "complete"
	// StateInterrupted: stopped before its end (SIGINT, a read error);
	// what was committed counts, and storing the same file again goes
	// on from there.
	StateInterrupted SourceState = "interrupted"
)

// Source is one evidence source: a capture file, a stream, a live
// capture, a log.
type Source struct {
	ID   int64
	Kind SourceKind
	Name string // the path as given, "-", the interface
	// Content is the content fingerprint (FileContent, StreamContent): of
	// the file (set before storing begins) or of the stream (set when it
	// ends); "" for live captures.
	Content string
	Size    int64
	State   SourceState
	// Settings are the reader's settings that decide which records a
	// source yields (an interrupted file goes on only with the same).
	Settings string
	Tool     string // tlsmap's version
	// Host and PID are the process storing it (or that last did).
	Host string
	PID  int
	// Owner is the ingest's own token (a process may store several
	// sources, or take one over).
	Owner string
	// Started, Updated (last commit) and Finished are wall-clock times.
	Started, Updated, Finished time.Time
	// FirstSeen and LastSeen span the evidence's own times (packet or
	// log times) of the records committed.
	FirstSeen, LastSeen time.Time
	// Records counts the records committed: the point an interrupted
	// file goes on from.
	Records int64
	// Stats are the reader's counters as of the last commit (for a
	// capture, sniff's packet and connection accounting), JSON.
	Stats json.RawMessage
}

// SourceSpec describes a source to store.
type SourceSpec struct {
	Kind SourceKind
	Name string
	// Content is the content fingerprint of a file (KindCapture,
	// KindLog; FileContent); required for those kinds, ignored for the
	// others.
	Content  string
	Size     int64
	Settings string
	Tool     string
}

// Errors of Begin.
var (
	// ErrAlreadyStored: the file's content was stored to its end before;
	// storing it again would count it twice. The error is an
	// *AlreadyStoredError naming the earlier source.
	ErrAlreadyStored = errors.New("store: already stored")
	// ErrBusy: another process is storing the same file now.
	ErrBusy = errors.New("store: another process is storing this file")
	// ErrSettings: an interrupted earlier ingest of the same file used
	// other settings, so its records cannot be continued exactly.
	ErrSettings = errors.New("store: the interrupted earlier ingest of this file used other settings")
	// ErrLost: another process took the source over (this one was
	// thought dead); nothing more is written.
	ErrLost = errors.New("store: the source was taken over by another process")
)

// AlreadyStoredError is the error of Begin for a file stored before.
type AlreadyStoredError struct{ Source Source }

func (e *AlreadyStoredError) Error() string {
	return fmt.Sprintf("store: %s was stored before (source %d, %s, %d records, finished %s)",
		e.Source.Name, e.Source.ID, e.Source.State, e.Source.Records, e.Source.Finished.Format(time.RFC3339))
}

func (e *AlreadyStoredError) Unwrap() error { return ErrAlreadyStored }

// Lease is how long a source whose process is on another host stays its
// process's after its last commit: past it, storing the same file again
// takes it over. (On the same host, a process that is gone is seen at
// once.)
const Lease = 2 * time.Minute

// Legacy is why a fact counts as legacy TLS (sniff.LegacyReasons), a bit
// set; 0 is not legacy.
type Legacy uint8

// The legacy reasons.
const (
	LegacyNegotiated Legacy = 1 << iota // the server chose TLS 1.1 or older
	LegacyOffered                       // the client offered nothing newer than TLS 1.1
	LegacySSLv2Hello                    // an SSLv2-format ClientHello
)

// Strings returns the reasons' names (negotiated, offered, sslv2-hello).
func (l Legacy) Strings() []string {
	var out []string
	if l&LegacyNegotiated != 0 {
		out = append(out, "negotiated")
	}
	if l&LegacyOffered != 0 {
		out = append(out, "offered")
	}
	if l&LegacySSLv2Hello != 0 {
		out = append(out, "sslv2-hello")
	}
	return out
}

// Fact is one record of evidence: a connection a capture saw, or one
// connection (or several alike) a log line tells of. Facts are counted
// per day (of First) × the fields from Client to Legacy.
type Fact struct {
	// Client is the client's address; ClientName names it when the
	// evidence gives no address (an EHLO name), else "".
	Client     netip.Addr
	ClientName string
	// Via is the address the connection came through when it is not the
	// client's own (a balancer that sent a PROXY protocol header); "".
	Via string
	// Server is the server endpoint, "ip:port" ("[v6]:port").
	Server   string
	Protocol string // https, smtp, imap, pop3, tls, quic …
	// Version and Cipher are the negotiated ones; 0 when not seen.
	Version uint16
	Cipher  uint16
	// Offered are the versions the client offered (GREASE left out).
	Offered []uint16
	SNI     string
	JA3     string
	JA4     string
	Legacy  Legacy
	// Count is how many connections the fact stands for (0 means 1).
	Count int64
	// First and Last are the evidence's times (packet or log time).
	First, Last time.Time

	// OfferedCiphers and Label describe the fingerprint (kept once per
	// JA3 × JA4, not per fact).
	OfferedCiphers []uint16
	Label          string

	// Unread marks a connection to Server whose hellos could not be read
	// (the capture began inside it, bytes were lost): it counts only as
	// a coverage gap of Server, never as a connection.
	Unread bool

	// Record is the raw record (tlsmap.sniff/1 JSON) kept with
	// IngestOptions.Records; nil otherwise.
	Record []byte
}

// IngestOptions configure an Ingest.
type IngestOptions struct {
	// BatchRecords commits after this many records (default 20000).
	BatchRecords int
	// BatchRows commits when the open batch holds this many distinct rows
	// (default 1000): records that aggregate well make few rows and
	// large batches, records that do not are written as they come.
	BatchRows int
	// BatchInterval commits when a record arrives this long after the
	// last commit (default 5s).
	BatchInterval time.Duration
	// Records keeps each fact's Record in the flows table.
	Records bool
	// Now is the wall clock (default time.Now).
	Now func() time.Time
	// Pipelined writes a batch in a goroutine of its own while the next
	// fills (a sniffer's reading and the store's writing on two cores);
	// a crash then loses at most the open batch and the one being
	// written. Finish writes the last one and waits.
	Pipelined bool
}

// Ingest stores the records of one source in batches, each committed in
// one transaction: a crash loses at most the open batch, and the source
// row always says how many records are in the store. Not safe for
// concurrent use.
type Ingest struct {
	s    *Store
	src  Source
	opts IngestOptions
	skip int64 // records committed by an earlier run, not stored again
	seen int64 // records offered to Add in this run

	evidence map[factKey]*factRow
	coverage map[covKey]*covRow
	prints   map[printKey]printRow
	flows    []flowRow
	pending  int // records in the open batch
	stats    json.RawMessage
	last     time.Time  // wall clock of the last commit
	err      error      // sticky: a failed commit stops the ingest
	flight   chan error // the pipelined batch being written, or nil

	// Names made once rather than for every record: clients' addresses
	// and offered-version lists repeat from connection to connection.
	clients  map[netip.Addr]string
	versions map[uint64]string
}

// nameCacheSize bounds each of an ingest's name caches (emptied when
// full: a cache, not a table of every client).
const nameCacheSize = 4096

// Begin starts storing a source. A file (KindCapture, KindLog) is looked
// up by its content hash first: stored to its end before, it is an
// *AlreadyStoredError; interrupted before (or its process died), the new
// ingest goes on after the records already committed (Resumed), given the
// same settings (else ErrSettings); being stored by a live process, it is
// ErrBusy.
func (s *Store) Begin(ctx context.Context, spec SourceSpec, opts IngestOptions) (*Ingest, error) {
	if opts.BatchRecords <= 0 {
		opts.BatchRecords = 20000
	}
	if opts.BatchInterval <= 0 {
		opts.BatchInterval = 5 * time.Second
	}
	if opts.BatchRows <= 0 {
		opts.BatchRows = 1000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if spec.Kind.byContent() && spec.Content == "" {
		return nil, fmt.Errorf("store: %s: a %s source needs its content fingerprint", spec.Name, spec.Kind)
	}
	if !spec.Kind.byContent() {
		spec.Content = ""
	}
	host, _ := os.Hostname()
	in := &Ingest{s: s, opts: opts, last: opts.Now()}
	in.reset()
	for attempt := 0; ; attempt++ {
		err := s.inTx(ctx, func(tx *sql.Tx) error { return in.claim(ctx, tx, spec, host) })
		if err == nil {
			break
		}
		// Two processes inserting the same new file at once: one wins
		// the unique index, the other looks again and finds it.
		if attempt < 3 && spec.Kind.byContent() && isConflict(err) {
			continue
		}
		return nil, err
	}
	return in, nil
}

// claim finds or creates the source row and makes it this process's.
func (in *Ingest) claim(ctx context.Context, tx *sql.Tx, spec SourceSpec, host string) error {
	s := in.s
	now := ns(in.opts.Now())
	pid := os.Getpid()
	owner := newOwner()
	if spec.Kind.byContent() {
		src, err := s.sourceWhere(ctx, tx, "content = ? AND kind IN ('capture', 'log')", spec.Content)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case src.State == StateComplete:
			return &AlreadyStoredError{Source: src}
		default:
			if src.State == StateRunning && src.PID != pid && !ownerGone(src, host, in.opts.Now()) {
				return fmt.Errorf("%w: %s (source %d, process %d on %s, last commit %s)", ErrBusy, spec.Name, src.ID, src.PID, src.Host, src.Updated.Format(time.RFC3339))
			}
			if src.Settings != spec.Settings {
				return fmt.Errorf("%w: %s (source %d, %d records): then %q, now %q", ErrSettings, spec.Name, src.ID, src.Records, src.Settings, spec.Settings)
			}
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE sources SET state = ?, host = ?, pid = ?, owner = ?, updated_at = ?, tool = ? WHERE id = ?`),
				string(StateRunning), host, pid, owner, now, spec.Tool, src.ID); err != nil {
				return err
			}
			src.State, src.Host, src.PID, src.Owner, src.Tool = StateRunning, host, pid, owner, spec.Tool
			in.src, in.skip = src, src.Records
			return nil
		}
	}
	var hash any
	if spec.Content != "" {
		hash = spec.Content
	}
	var id int64
	err := tx.QueryRowContext(ctx, s.q(`INSERT INTO sources (kind, name, content, size, state, settings, tool, host, pid, owner, started_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		string(spec.Kind), spec.Name, hash, spec.Size, string(StateRunning), spec.Settings, spec.Tool, host, pid, owner, now, now).Scan(&id)
	if err != nil {
		return err
	}
	in.src = Source{ID: id, Kind: spec.Kind, Name: spec.Name, Content: spec.Content, Size: spec.Size, State: StateRunning,
		Settings: spec.Settings, Tool: spec.Tool, Host: host, PID: pid, Owner: owner, Started: fromNS(now), Updated: fromNS(now)}
	return nil
}

// ownerGone reports whether the process that last stored src is gone: on
// this host, when no such process runs; elsewhere, when its lease ran out.
func ownerGone(src Source, host string, now time.Time) bool {
	if src.Host == host && canCheckProcess {
		return !processAlive(src.PID)
	}
	return now.Sub(src.Updated) > Lease
}

// newOwner returns a fresh owner token.
func newOwner() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// isConflict reports whether err is a unique-constraint violation.
func isConflict(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "SQLSTATE 23505") ||
		strings.Contains(msg, "duplicate key value")
}

// Source returns the source as this ingest knows it.
func (in *Ingest) Source() Source { return in.src }

// Resumed returns how many records an earlier, interrupted ingest of the
// same file committed: the first that many records given to Add are not
// stored again.
func (in *Ingest) Resumed() int64 { return in.skip }

// Stored returns how many of the source's records are committed.
func (in *Ingest) Stored() int64 { return in.src.Records }

// SetStats sets the reader's counters, written with the next commit.
func (in *Ingest) SetStats(stats json.RawMessage) { in.stats = stats }

// Add stores one record (in the open batch, committed when it is full or
// old). The records of a source must come in the same order every time
// it is read, so that an interrupted ingest can go on exactly.
func (in *Ingest) Add(ctx context.Context, f *Fact) error {
	if in.err != nil {
		return in.err
	}
	in.seen++
	if in.seen <= in.skip {
		return nil
	}
	in.add(f)
	in.pending++
	if in.pending >= in.opts.BatchRecords || len(in.evidence)+len(in.flows) >= in.opts.BatchRows ||
		in.opts.Now().Sub(in.last) >= in.opts.BatchInterval {
		return in.Commit(ctx)
	}
	return nil
}

// Seen returns how many records were given to Add in this run (those
// skipped as already stored included).
func (in *Ingest) Seen() int64 { return in.seen }

// Commit commits the open batch (and the counters, and the source's
// heartbeat, even when the batch is empty).
func (in *Ingest) Commit(ctx context.Context) error {
	if in.err != nil {
		return in.err
	}
	if err := in.commit(ctx, ""); err != nil {
		in.err = err
		return err
	}
	return nil
}

// Finish commits the open batch and sets the source's state:
// StateComplete when it was read to its end, StateInterrupted otherwise.
// A stream's content fingerprint, known only now, is given as content (""
// when none).
func (in *Ingest) Finish(ctx context.Context, state SourceState, content string) error {
	if in.err != nil {
		return in.err
	}
	if content != "" && !in.src.Kind.byContent() {
		in.src.Content = content
	}
	if err := in.commit(ctx, state); err != nil {
		in.err = err
		return err
	}
	in.err = errors.New("store: ingest finished")
	return nil
}

// Duplicate returns, for a finished stream, an earlier complete source
// with the same content hash (the same bytes were stored before, and are
// now counted twice), or ok=false.
func (in *Ingest) Duplicate(ctx context.Context) (src Source, ok bool, err error) {
	// A file's content is unique among files (Begin), and a stream's
	// fingerprint is never a file's: only streams are looked up.
	if in.src.Content == "" || in.src.Kind.byContent() {
		return Source{}, false, nil
	}
	src, err = in.s.sourceWhere(ctx, in.s.db, "content = ? AND id <> ? AND state = 'complete'", in.src.Content, in.src.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return Source{}, false, nil
	}
	return src, err == nil, err
}

func (in *Ingest) reset() {
	// The batch took the maps; the next is likely to be as large (made
	// that large at once: no map growing record by record).
	in.evidence = make(map[factKey]*factRow, len(in.evidence))
	in.coverage = make(map[covKey]*covRow, len(in.coverage))
	in.prints = make(map[printKey]printRow, len(in.prints))
	in.flows = nil // a pipelined batch may still hold the last ones
	in.pending = 0
}

// factKey is the aggregation key of the evidence table.
type factKey struct {
	day                           Day
	evidence                      Evidence
	client, via, server, protocol string
	version, cipher               uint16
	offered, sni, ja3, ja4        string
	legacy                        Legacy
}

type factRow struct {
	connections int64
	first, last int64
}

type covKey struct {
	day    Day
	server string
}

type covRow struct {
	tls, legacy, unread int64
	first, last         int64
}

type printKey struct{ ja3, ja4 string }

type printRow struct {
	label, versions, ciphers string
	first                    int64
}

type flowRow struct {
	seq    int64
	day    Day
	client string
	server string
	legacy Legacy
	first  int64
	record string // the Fact's Record, copied
}

// add puts f into the open batch.
func (in *Ingest) add(f *Fact) {
	first, last := ns(f.First), ns(f.Last)
	if first == 0 {
		first = last
	}
	if last < first {
		last = first
	}
	day := DayOf(fromNS(first))
	if first == 0 {
		day = 0
	}
	if first != 0 {
		if in.src.FirstSeen.IsZero() || first < ns(in.src.FirstSeen) {
			in.src.FirstSeen = fromNS(first)
		}
		if last > ns(in.src.LastSeen) {
			in.src.LastSeen = fromNS(last)
		}
	}
	n := f.Count
	if n <= 0 {
		n = 1
	}
	if f.Server != "" {
		ck := covKey{day, f.Server}
		c := in.coverage[ck]
		if c == nil {
			c = &covRow{first: first, last: last}
			in.coverage[ck] = c
		}
		if f.Unread {
			c.unread += n
		} else {
			c.tls += n
			if f.Legacy != 0 {
				c.legacy += n
			}
		}
		c.first, c.last = min(c.first, first), max(c.last, last)
	}
	if f.Unread {
		return
	}
	client := f.ClientName
	if f.Client.IsValid() {
		client = in.clientName(f.Client)
	}
	k := factKey{day: day, evidence: in.src.Kind.Evidence(), client: client, via: f.Via, server: f.Server,
		protocol: f.Protocol, version: f.Version, cipher: f.Cipher, offered: in.versionList(f.Offered),
		sni: f.SNI, ja3: f.JA3, ja4: f.JA4, legacy: f.Legacy}
	r := in.evidence[k]
	if r == nil {
		r = &factRow{first: first, last: last}
		in.evidence[k] = r
	}
	r.connections += n
	r.first, r.last = min(r.first, first), max(r.last, last)
	if f.JA3 != "" || f.JA4 != "" {
		pk := printKey{f.JA3, f.JA4}
		if p, ok := in.prints[pk]; !ok || p.label == "" && f.Label != "" {
			in.prints[pk] = printRow{label: f.Label, versions: k.offered, ciphers: cipherList(f.OfferedCiphers), first: first}
		}
	}
	if in.opts.Records && f.Record != nil {
		in.flows = append(in.flows, flowRow{seq: in.seen, day: day, client: client, server: f.Server,
			legacy: f.Legacy, first: first, record: string(f.Record)})
	}
}

// clientName returns a's name in the store (IPv4-mapped addresses as
// IPv4).
func (in *Ingest) clientName(a netip.Addr) string {
	if name, ok := in.clients[a]; ok {
		return name
	}
	if in.clients == nil || len(in.clients) >= nameCacheSize {
		in.clients = make(map[netip.Addr]string)
	}
	name := a.Unmap().String()
	in.clients[a] = name
	return name
}

// versionList is versionList(vs), named once per list of up to four
// versions.
func (in *Ingest) versionList(vs []uint16) string {
	if len(vs) == 0 || len(vs) > 4 {
		return versionList(vs)
	}
	// Four versions in 64 bits; a version 0 would be taken for a shorter
	// list.
	var packed uint64
	for _, v := range vs {
		if v == 0 {
			return versionList(vs)
		}
		packed = packed<<16 | uint64(v)
	}
	if name, ok := in.versions[packed]; ok {
		return name
	}
	if in.versions == nil || len(in.versions) >= nameCacheSize {
		in.versions = make(map[uint64]string)
	}
	name := versionList(vs)
	in.versions[packed] = name
	return name
}

// versionList names versions, newest first, ';'-joined (GREASE dropped).
func versionList(vs []uint16) string {
	if len(vs) == 0 {
		return ""
	}
	sorted := make([]tls.Version, 0, len(vs))
	for _, v := range vs {
		if !tls.IsGREASE(v) && !slices.Contains(sorted, tls.Version(v)) {
			sorted = append(sorted, tls.Version(v))
		}
	}
	slices.SortStableFunc(sorted, func(a, b tls.Version) int { return cmp.Compare(b.Rank(), a.Rank()) })
	var b strings.Builder
	for i, v := range sorted {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(v.String())
	}
	return b.String()
}

// cipherList writes suites as "0xC02F;0x1301", wire order.
func cipherList(ids []uint16) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(';')
		}
		fmt.Fprintf(&b, "0x%04X", id)
	}
	return b.String()
}

// key is the evidence table's 128-bit key of k (a SHA-256 prefix of its
// fields, each length-prefixed).
func (k *factKey) key() []byte {
	var buf [512]byte
	b := binary.BigEndian.AppendUint64(buf[:0], uint64(k.day))
	str := func(s string) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	str(string(k.evidence))
	str(k.client)
	str(k.via)
	str(k.server)
	str(k.protocol)
	b = binary.BigEndian.AppendUint16(b, k.version)
	b = binary.BigEndian.AppendUint16(b, k.cipher)
	b = append(b, byte(k.legacy))
	str(k.offered)
	str(k.sni)
	str(k.ja3)
	str(k.ja4)
	sum := sha256.Sum256(b)
	return sum[:16:16]
}

// commit writes the open batch and the source row in one transaction,
// retried when PostgreSQL picks it as a deadlock or serialization victim;
// with IngestOptions.Pipelined, in a goroutine of its own (but the last).
func (in *Ingest) commit(ctx context.Context, state SourceState) error {
	if err := in.wait(); err != nil {
		return err
	}
	now := in.opts.Now()
	records := in.src.Records + int64(in.pending)
	if in.seen < in.skip {
		records = in.src.Records // still inside what an earlier run stored
	}
	// The batch takes the maps; the rows are keyed and sorted by the
	// writer (the pipelined one off this goroutine).
	b := &batch{ev: in.evidence, cov: in.coverage, pr: in.prints}
	b.records, b.state, b.now = records, state, now
	b.flows, b.stats = in.flows, in.stats
	b.first, b.last, b.content = in.src.FirstSeen, in.src.LastSeen, in.src.Content
	in.src.Records = records
	in.src.Updated = now
	if state != "" {
		in.src.State = state
		in.src.Finished = now
	}
	in.last = now
	in.reset()
	if in.opts.Pipelined && state == "" {
		ch := make(chan error, 1)
		in.flight = ch
		go func() { ch <- in.writeBatch(ctx, b) }()
		return nil
	}
	return in.writeBatch(ctx, b)
}

// wait waits for the pipelined batch being written, if any.
func (in *Ingest) wait() error {
	if in.flight == nil {
		return nil
	}
	err := <-in.flight
	in.flight = nil
	return err
}

// writeBatch writes b in one transaction, retried when PostgreSQL picks
// it as a deadlock or serialization victim.
func (in *Ingest) writeBatch(ctx context.Context, b *batch) error {
	b.prepare()
	tables := in.tables(b)
	if in.s.dialect == SQLite {
		// The multi-row statements of the batch's chunk sizes, prepared
		// once per store, outside the transaction (SQLite's one
		// connection).
		for _, t := range tables {
			for _, size := range chunks(t.n) {
				if err := in.s.prepare(ctx, valuesQuery(t.insert, t.upsert, len(t.cols), size)); err != nil {
					return err
				}
			}
		}
	}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if in.s.dialect == Postgres {
			err = in.s.withPgx(ctx, func(c *pgx.Conn) error { return in.writePG(ctx, c, b, tables) })
		} else {
			err = in.s.inTx(ctx, func(tx *sql.Tx) error { return in.write(ctx, tx, b, tables) })
		}
		if err == nil || !retryable(err) || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("store: committing %s: %w", in.src.Name, err)
	}
	return nil
}

// retryable reports whether a transaction failed for a deadlock or a
// serialization conflict (PostgreSQL), or a busy SQLite file.
func retryable(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "SQLSTATE 40P01") || strings.Contains(msg, "SQLSTATE 40001") ||
		strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked")
}

// batch is the open batch in a fixed order: rows sorted by key, so that
// concurrent writers take their row locks in the same order (no
// deadlocks between them).
type batch struct {
	ev  map[factKey]*factRow
	cov map[covKey]*covRow
	pr  map[printKey]printRow

	evidence []*evRow
	coverage []*cvRow
	prints   []*pRow
	flows    []flowRow

	// The source row as of this batch.
	records     int64
	state       SourceState
	now         time.Time
	stats       json.RawMessage
	first, last time.Time
	content     string
}

type evRow struct {
	k   factKey
	key []byte
	r   *factRow
}

type cvRow struct {
	k covKey
	r *covRow
}

type pRow struct {
	k printKey
	r printRow
}

func (b *batch) prepare() {
	for k, r := range b.ev {
		b.evidence = append(b.evidence, &evRow{k, k.key(), r})
	}
	slices.SortFunc(b.evidence, func(x, y *evRow) int {
		return cmp.Or(cmp.Compare(x.k.day, y.k.day), bytes.Compare(x.key, y.key))
	})
	for k, r := range b.cov {
		b.coverage = append(b.coverage, &cvRow{k, r})
	}
	slices.SortFunc(b.coverage, func(x, y *cvRow) int {
		return cmp.Or(cmp.Compare(x.k.day, y.k.day), strings.Compare(x.k.server, y.k.server))
	})
	for k, r := range b.pr {
		b.prints = append(b.prints, &pRow{k, r})
	}
	slices.SortFunc(b.prints, func(x, y *pRow) int {
		return cmp.Or(strings.Compare(x.k.ja3, y.k.ja3), strings.Compare(x.k.ja4, y.k.ja4))
	})
}

// Upserts: a row already there gets the counts added and its time span
// widened, never overwritten, so that concurrent writers add up.
const (
	evidenceInsert = `INSERT INTO evidence (day, key, kind, client, via, server, protocol, version, cipher, offered, sni, ja3, ja4, legacy, connections, first_seen, last_seen) VALUES `
	evidenceUpsert = ` ON CONFLICT (day, key) DO UPDATE SET
		connections = evidence.connections + excluded.connections,
		first_seen = CASE WHEN excluded.first_seen < evidence.first_seen THEN excluded.first_seen ELSE evidence.first_seen END,
		last_seen = CASE WHEN excluded.last_seen > evidence.last_seen THEN excluded.last_seen ELSE evidence.last_seen END`
	coverageInsert = `INSERT INTO coverage (source_id, day, server, kind, tls, legacy, unread, first_seen, last_seen) VALUES `
	coverageUpsert = ` ON CONFLICT (source_id, day, server) DO UPDATE SET
		tls = coverage.tls + excluded.tls, legacy = coverage.legacy + excluded.legacy, unread = coverage.unread + excluded.unread,
		first_seen = CASE WHEN excluded.first_seen < coverage.first_seen THEN excluded.first_seen ELSE coverage.first_seen END,
		last_seen = CASE WHEN excluded.last_seen > coverage.last_seen THEN excluded.last_seen ELSE coverage.last_seen END`
	printsInsert = `INSERT INTO fingerprints (ja3, ja4, label, offered_versions, offered_ciphers, first_seen) VALUES `
	printsUpsert = ` ON CONFLICT (ja3, ja4) DO UPDATE SET
		label = CASE WHEN excluded.label <> '' THEN excluded.label ELSE fingerprints.label END,
		first_seen = CASE WHEN excluded.first_seen < fingerprints.first_seen THEN excluded.first_seen ELSE fingerprints.first_seen END`
	flowsInsert = `INSERT INTO flows (source_id, seq, day, client, server, legacy, first_seen, record) VALUES `
	flowsUpsert = ` ON CONFLICT (source_id, seq) DO NOTHING`
)

// The tables' columns, in the order of the inserts above.
var (
	evidenceCols = []string{"day", "key", "kind", "client", "via", "server", "protocol", "version", "cipher", "offered", "sni", "ja3", "ja4",
		"legacy", "connections", "first_seen", "last_seen"}
	coverageCols = []string{"source_id", "day", "server", "kind", "tls", "legacy", "unread", "first_seen", "last_seen"}
	printsCols   = []string{"ja3", "ja4", "label", "offered_versions", "offered_ciphers", "first_seen"}
	flowsCols    = []string{"source_id", "seq", "day", "client", "server", "legacy", "first_seen", "record"}
)

// rowsPerStatement keeps a statement's parameters under SQLite's and
// PostgreSQL's limits; a power of two (chunks).
const rowsPerStatement = 256

// table is one table's rows of a batch: its columns (in the order of
// row's values), its upsert, its rows.
type table struct {
	name           string
	cols           []string
	order          string // the merge's row order (PostgreSQL)
	insert, upsert string
	n              int
	row            func(i int, args []any) []any
}

// tables lists b's rows per table, in the order they are written.
func (in *Ingest) tables(b *batch) []table {
	id := in.src.ID
	kind := string(in.src.Kind.Evidence())
	return []table{
		{name: "evidence", cols: evidenceCols, order: "day, key", insert: evidenceInsert, upsert: evidenceUpsert, n: len(b.evidence),
			row: func(i int, args []any) []any {
				e := b.evidence[i]
				return append(args, int64(e.k.day), e.key, string(e.k.evidence), e.k.client, e.k.via, e.k.server, e.k.protocol,
					int64(e.k.version), int64(e.k.cipher), e.k.offered, e.k.sni, e.k.ja3, e.k.ja4, int64(e.k.legacy),
					e.r.connections, e.r.first, e.r.last)
			}},
		{name: "coverage", cols: coverageCols, order: "source_id, day, server", insert: coverageInsert, upsert: coverageUpsert, n: len(b.coverage),
			row: func(i int, args []any) []any {
				c := b.coverage[i]
				return append(args, id, int64(c.k.day), c.k.server, kind, c.r.tls, c.r.legacy, c.r.unread, c.r.first, c.r.last)
			}},
		{name: "fingerprints", cols: printsCols, order: "ja3, ja4", insert: printsInsert, upsert: printsUpsert, n: len(b.prints),
			row: func(i int, args []any) []any {
				p := b.prints[i]
				return append(args, p.k.ja3, p.k.ja4, p.r.label, p.r.versions, p.r.ciphers, p.r.first)
			}},
		{name: "flows", cols: flowsCols, order: "source_id, seq", insert: flowsInsert, upsert: flowsUpsert, n: len(b.flows),
			row: func(i int, args []any) []any {
				f := b.flows[i]
				return append(args, id, f.seq, int64(f.day), f.client, f.server, int64(f.legacy), f.first, f.record)
			}},
	}
}

// sourceUpdate is the UPDATE of the source row that commits with b (? placeholders).
func (in *Ingest) sourceUpdate(b *batch) (string, []any) {
	stats := string(b.stats)
	if stats == "" {
		stats = "{}"
	}
	query := `UPDATE sources SET records = ?, updated_at = ?, first_seen = ?, last_seen = ?, stats = ?`
	args := []any{b.records, ns(b.now), ns(b.first), ns(b.last), stats}
	if b.state != "" {
		query += `, state = ?, finished_at = ?`
		args = append(args, string(b.state), ns(b.now))
	}
	if b.content != "" && !in.src.Kind.byContent() {
		query += `, content = ?`
		args = append(args, b.content)
	}
	query += ` WHERE id = ? AND owner = ?`
	return query, append(args, in.src.ID, in.src.Owner)
}

// write writes b into SQLite: multi-row upserts.
func (in *Ingest) write(ctx context.Context, tx *sql.Tx, b *batch, tables []table) error {
	s := in.s
	for _, t := range tables {
		if err := s.insertRows(ctx, tx, t.insert, t.upsert, len(t.cols), t.n, t.row); err != nil {
			return err
		}
	}
	query, args := in.sourceUpdate(b)
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return fmt.Errorf("%w (source %d)", ErrLost, in.src.ID)
	}
	return nil
}

// writePG writes b into PostgreSQL in one round trip: per table one
// INSERT … SELECT … FROM unnest(column arrays) ORDER BY key ON CONFLICT …,
// with the same upserts as SQLite's, then the source row; the arrays go
// as binary parameters of statements prepared once per connection.
func (in *Ingest) writePG(ctx context.Context, c *pgx.Conn, b *batch, tables []table) error {
	tx, err := c.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) // after Commit: nothing
	// A batch's rows and its source's resume point commit together:
	// should the server lose the last commits in a crash, it loses them
	// together, and the next run goes on from the earlier point. No need
	// to wait for the WAL flush.
	q := &pgx.Batch{}
	q.Queue(`SET LOCAL synchronous_commit TO OFF`)
	for _, t := range tables {
		if t.n == 0 {
			continue
		}
		query, args := unnestInsert(t)
		q.Queue(query, args...)
	}
	query, args := in.sourceUpdate(b)
	update := q.Queue(in.s.q(query), args...)
	var affected int64
	update.Exec(func(ct pgconn.CommandTag) error {
		affected = ct.RowsAffected()
		return nil
	})
	if err := tx.SendBatch(ctx, q).Close(); err != nil {
		return err
	}
	if affected != 1 {
		return fmt.Errorf("%w (source %d)", ErrLost, in.src.ID)
	}
	return tx.Commit(ctx)
}

// unnestInsert returns t's rows as one PostgreSQL statement and its
// parameters: an array per column (bigint, bytea or text, from the Go
// types of t.row's values), unnested and merged in t.order.
func unnestInsert(t table) (string, []any) {
	cols := make([]any, len(t.cols))
	vals := make([]any, 0, len(t.cols))
	for i := 0; i < t.n; i++ {
		vals = t.row(i, vals[:0])
		for j, v := range vals {
			switch v := v.(type) {
			case int64:
				c, _ := cols[j].([]int64)
				cols[j] = append(c, v)
			case string:
				c, _ := cols[j].([]string)
				cols[j] = append(c, v)
			case []byte:
				c, _ := cols[j].([][]byte)
				cols[j] = append(c, v)
			default:
				panic(fmt.Sprintf("store: %s.%s: no PostgreSQL array for %T", t.name, t.cols[j], v))
			}
		}
	}
	var q strings.Builder
	names := strings.Join(t.cols, ", ")
	q.WriteString(t.insert[:strings.Index(t.insert, " VALUES")])
	q.WriteString(" SELECT " + names + " FROM unnest(")
	for j, c := range cols {
		if j > 0 {
			q.WriteString(", ")
		}
		fmt.Fprintf(&q, "$%d::", j+1)
		switch c.(type) {
		case []int64:
			q.WriteString("bigint[]")
		case []string:
			q.WriteString("text[]")
		case [][]byte:
			q.WriteString("bytea[]")
		}
	}
	q.WriteString(") AS t(" + names + ") ORDER BY " + t.order + t.upsert)
	return q.String(), cols
}

// insertRows inserts n rows of cols columns with multi-row statements;
// row appends row i's values.
func (s *Store) insertRows(ctx context.Context, tx *sql.Tx, insert, upsert string, cols, n int, row func(i int, args []any) []any) error {
	args := make([]any, 0, rowsPerStatement*cols)
	start := 0
	for _, size := range chunks(n) {
		args = args[:0]
		for i := start; i < start+size; i++ {
			args = row(i, args)
		}
		start += size
		query := s.q(valuesQuery(insert, upsert, cols, size))
		var err error
		if stmt := s.prepared(query); stmt != nil {
			// The statements of every chunk size come back batch after
			// batch: prepared once per store (writeBatch).
			_, err = tx.StmtContext(ctx, stmt).ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, query, args...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// chunks splits n rows into statements of rowsPerStatement rows and, for
// the rest, of powers of two, largest first: a batch of any size is
// written by at most nine statements of sizes met before, each prepared
// once per store rather than parsed again in every batch.
func chunks(n int) []int {
	var out []int
	for ; n >= rowsPerStatement; n -= rowsPerStatement {
		out = append(out, rowsPerStatement)
	}
	for size := rowsPerStatement / 2; size > 0; size /= 2 {
		if n >= size {
			out = append(out, size)
			n -= size
		}
	}
	return out
}

// valuesQuery builds insert + "(?, …), (?, …)" + upsert.
func valuesQuery(insert, upsert string, cols, rows int) string {
	var b strings.Builder
	b.Grow(len(insert) + len(upsert) + rows*(cols*3+3))
	b.WriteString(insert)
	for r := 0; r < rows; r++ {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := 0; c < cols; c++ {
			if c > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('?')
		}
		b.WriteByte(')')
	}
	b.WriteString(upsert)
	return b.String()
}

// queryer is a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

const sourceColumns = `id, kind, name, COALESCE(content, ''), size, state, settings, tool, host, pid, owner, started_at, updated_at, finished_at, first_seen, last_seen, records, stats`

type scanner interface{ Scan(dest ...any) error }

func scanSource(r scanner) (Source, error) {
	var (
		src                                              Source
		kind, state, stats                               string
		pid, started, updated, finished, first, lastSeen int64
	)
	err := r.Scan(&src.ID, &kind, &src.Name, &src.Content, &src.Size, &state, &src.Settings, &src.Tool, &src.Host, &pid, &src.Owner,
		&started, &updated, &finished, &first, &lastSeen, &src.Records, &stats)
	src.Kind, src.State, src.PID = SourceKind(kind), SourceState(state), int(pid)
	src.Started, src.Updated, src.Finished = fromNS(started), fromNS(updated), fromNS(finished)
	src.FirstSeen, src.LastSeen = fromNS(first), fromNS(lastSeen)
	src.Stats = json.RawMessage(stats)
	return src, err
}

func (s *Store) sourceWhere(ctx context.Context, q queryer, where string, args ...any) (Source, error) {
	return scanSource(q.QueryRowContext(ctx, s.q(`SELECT `+sourceColumns+` FROM sources WHERE `+where+` ORDER BY id LIMIT 1`), args...))
}

// Sources returns every evidence source, oldest first.
func (s *Store) Sources(ctx context.Context) ([]Source, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+sourceColumns+` FROM sources ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: sources: %w", err)
	}
	defer rows.Close()
	var out []Source
	for rows.Next() {
		src, err := scanSource(rows)
		if err != nil {
			return nil, fmt.Errorf("store: sources: %w", err)
		}
		out = append(out, src)
	}
	return out, rows.Err()
}
