package sniff

import (
	"context"
	"errors"
	"io"
)

// readPast reports whether a source's error is damage it read past (the
// source may be called again), not the end of the reading.
func readPast(err error) bool {
	return errors.Is(err, ErrTruncatedCapture) || errors.Is(err, ErrCorruptBlock) || errors.Is(err, ErrCorruptCapture)
}

// The pipeline of Run over a KeepingSource: one goroutine reads and
// decodes packets (the source, the layers, the fragment table: all of
// s.dec) and hands them on in batches; the caller's goroutine does what
// Sniffer.decoded does (the flow tables, the counters, the Handler), in
// packet order. The decoding is about as long as the tracking (sniff -r
// of the 696 MB bench capture on one goroutine: ReadPacket and
// DecodeLayers about 180 ms, the flow tables about 140 ms), so on two
// cores each stage gets one (349 -> 305 ms).
//
// A decoded packet's payload lies in the source's buffer: the source
// keeps its buffers (KeepingSource) and each batch carries the ones read
// past while it was filled; they go back to the source when the batch
// comes back, after every packet of this batch and the ones before it
// was handled.
//
// The sizes: sniff -r of the bench capture, medians of 15 interleaved
// runs on two cores, took 317 ms in batches of 256 packets (256 KiB),
// 288 ms in batches of 1024 (1 MiB); 4096 was slower and held 77 MB.
// With 1024, 8 batches in circulation rather than 4 took 273 against
// 284 ms (peak RSS 56 against 46 MB), and sniff --store, whose writer
// runs beside both stages, 347 against 363 ms (another run: 357 ms
// against 375 ms with the decoding inline on the caller's goroutine).
const (
	pipeBatch   = 1024    // packets in a batch
	pipeBytes   = 1 << 20 // a batch is handed on when its packets hold this many bytes
	pipeBatches = 8       // batches in circulation
)

// decodedPacket is one packet as the decoding goroutine leaves it, or a
// source error (err set, nothing else).
type decodedPacket struct {
	p    pkt
	now  int64
	n    int
	res  decodeResult
	skip Skip
	err  error
}

type pipeBatchData struct {
	pkts []decodedPacket
	bufs [][]byte // the source's buffers to give back once the batch is handled
}

func (s *Sniffer) runPipelined(ctx context.Context, src KeepingSource) error {
	full := make(chan *pipeBatchData, pipeBatches)
	empty := make(chan *pipeBatchData, pipeBatches)
	stop := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		s.decodeStage(ctx, src, full, empty, stop)
	}()
	defer func() {
		close(stop)
		<-exited
	}()
	for b := range full {
		for i := range b.pkts {
			d := &b.pkts[i]
			if d.err == nil {
				s.decoded(d.n, d.now, d.res, d.skip, &d.p)
				continue
			}
			if s.sourceError(d.err) {
				continue
			}
			if errors.Is(d.err, io.EOF) {
				return nil
			}
			return d.err // ctx's, or the source's own error
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		empty <- b // never blocks: its room is every batch there is
	}
	return nil // not reached: the last batch ends the loop
}

// decodeStage reads and decodes the packets of src into batches until
// the source ends (or fails), ctx is done or stop is closed.
func (s *Sniffer) decodeStage(ctx context.Context, src KeepingSource, full, empty chan *pipeBatchData, stop <-chan struct{}) {
	made := 0
	next := func() *pipeBatchData {
		var b *pipeBatchData
		if made < pipeBatches {
			select {
			case b = <-empty:
			default:
				made++
				return &pipeBatchData{pkts: make([]decodedPacket, 0, pipeBatch)}
			}
		} else {
			select {
			case b = <-empty:
			case <-stop:
				return nil
			}
		}
		src.Return(b.bufs)
		b.pkts, b.bufs = b.pkts[:0], nil
		return b
	}
	send := func(b *pipeBatchData) bool {
		b.bufs = src.Kept()
		select {
		case full <- b:
			return true
		case <-stop:
			return false
		}
	}
	b := next()
	held := 0
	for i := 0; b != nil; i++ {
		if i&1023 == 0 {
			if err := ctx.Err(); err != nil {
				b.pkts = append(b.pkts, decodedPacket{err: err})
				send(b)
				return
			}
		}
		data, ci, lt, err := src.ReadPacket()
		b.pkts = append(b.pkts, decodedPacket{})
		d := &b.pkts[len(b.pkts)-1]
		if err != nil {
			d.err = err
			if !readPast(err) {
				send(b)
				return
			}
		} else {
			d.now, d.n = ci.Timestamp.UnixNano(), len(data)
			d.res = s.dec.decode(data, lt, d.now, ci.CaptureLength < ci.Length, &d.p)
			d.skip = s.dec.skip
			held += len(data)
		}
		if len(b.pkts) == pipeBatch || held >= pipeBytes {
			if !send(b) {
				return
			}
			b, held = next(), 0
		}
	}
}
