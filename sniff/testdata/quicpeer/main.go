// Command quicpeer is the QUIC client and server that
// scripts/make-quic-captures.sh records: quic-go over Go's crypto/tls,
// sharing no code with tlsmap. The client prints what its own connection
// state says was negotiated; that is the capture's truth.
//
// It is a module of its own, under testdata, so that quic-go is never a
// dependency of tlsmap: only the script builds it.
//
//	quicpeer serve -addr 127.0.0.1:4433 -cert c.pem -key k.pem [-retry]
//	quicpeer dial -addr 127.0.0.1:4433 -sni NAME [-v2] [-curves x25519,p256,mlkem] [-alpn-extra N]
//	quicpeer flood -addr 127.0.0.1:4433 -n 5000 -bulk-mb 200 (bench/sniff-compare.sh QUIC=1)
//
// The server answers every stream that sends 16 bytes (a length and a
// rate in bytes per second, big-endian) with that many bytes, paced.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/quic-go/quic-go"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: quicpeer serve|dial [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "dial":
		err = dial(os.Args[2:])
	case "flood":
		err = flood(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "quicpeer:", err)
		os.Exit(1)
	}
}

var curveNames = map[string]tls.CurveID{
	"x25519": tls.X25519, "p256": tls.CurveP256, "p384": tls.CurveP384, "mlkem": tls.X25519MLKEM768,
}

func curves(list string) ([]tls.CurveID, error) {
	if list == "" {
		return nil, nil // crypto/tls's defaults
	}
	var out []tls.CurveID
	for _, n := range strings.Split(list, ",") {
		c, ok := curveNames[n]
		if !ok {
			return nil, fmt.Errorf("unknown curve %q", n)
		}
		out = append(out, c)
	}
	return out, nil
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:4433", "UDP address to listen on")
	certFile := fs.String("cert", "", "certificate (PEM); none: a self-signed one")
	keyFile := fs.String("key", "", "private key (PEM)")
	retry := fs.Bool("retry", false, "validate every client address with a Retry packet")
	hrrCurves := fs.String("hrr-curves", "p256", "the only curves offered to clients whose SNI starts with hrr.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cert, err := loadOrMakeCert(*certFile, *keyFile)
	if err != nil {
		return err
	}
	only, err := curves(*hrrCurves)
	if err != nil {
		return err
	}
	base := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h3"}, MinVersion: tls.VersionTLS13}
	base.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		if !strings.HasPrefix(hello.ServerName, "hrr.") {
			return nil, nil
		}
		c := base.Clone()
		c.GetConfigForClient = nil
		c.CurvePreferences = only
		return c, nil
	}
	udp, err := net.ListenPacket("udp", *addr)
	if err != nil {
		return err
	}
	tr := &quic.Transport{Conn: udp}
	if *retry {
		tr.VerifySourceAddress = func(net.Addr) bool { return true }
	}
	ln, err := tr.Listen(base, &quic.Config{Versions: []quic.Version{quic.Version1, quic.Version2}})
	if err != nil {
		return err
	}
	fmt.Println("listening", udp.LocalAddr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	for {
		c, err := ln.Accept(ctx)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		}
		go answer(c)
	}
}

// answer serves a connection's streams until the client closes it.
func answer(c *quic.Conn) {
	for {
		st, err := c.AcceptStream(c.Context())
		if err != nil {
			return
		}
		go func() {
			defer st.Close()
			var req [16]byte
			if _, err := io.ReadFull(st, req[:]); err != nil {
				return
			}
			n, rate := binary.BigEndian.Uint64(req[:8]), binary.BigEndian.Uint64(req[8:])
			chunk := make([]byte, 32<<10)
			start := time.Now()
			for sent := uint64(0); sent < n; {
				k := min(n-sent, uint64(len(chunk)))
				if _, err := st.Write(chunk[:k]); err != nil {
					return
				}
				sent += k
				if rate > 0 {
					if ahead := time.Duration(float64(sent)/float64(rate)*float64(time.Second)) - time.Since(start); ahead > 0 {
						time.Sleep(ahead)
					}
				}
			}
		}()
	}
}

// fetch opens a stream on c, asks for n bytes at rate bytes/s and reads
// them.
func fetch(ctx context.Context, c *quic.Conn, n, rate uint64) error {
	st, err := c.OpenStreamSync(ctx)
	if err != nil {
		return err
	}
	var req [16]byte
	binary.BigEndian.PutUint64(req[:8], n)
	binary.BigEndian.PutUint64(req[8:], rate)
	if _, err := st.Write(req[:]); err != nil {
		return err
	}
	st.Close()
	got, err := io.Copy(io.Discard, st)
	if err != nil {
		return err
	}
	if uint64(got) != n {
		return fmt.Errorf("%d bytes, want %d", got, n)
	}
	return nil
}

// flood makes the QUIC traffic of bench/sniff-compare.sh: many short
// connections from 200 client addresses (127.0.1.1–200), one SNI each,
// alongside a few paced bulk downloads.
func flood(args []string) error {
	fs := flag.NewFlagSet("flood", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:443", "server address")
	n := fs.Int("n", 5000, "short connections")
	workers := fs.Int("workers", 8, "concurrent short connections")
	bulkMB := fs.Int("bulk-mb", 200, "MB downloaded in bulk, in total")
	bulkConns := fs.Int("bulk-conns", 4, "bulk connections")
	rate := fs.Int("rate", 40, "MB/s of bulk data, all connections together (tcpdump must keep up)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	raddr, err := net.ResolveUDPAddr("udp", *addr)
	if err != nil {
		return err
	}
	connect := func(ctx context.Context, i int, sni string) (*quic.Conn, *net.UDPConn, error) {
		udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 1, byte(1+i%200))})
		if err != nil {
			return nil, nil, err
		}
		tc := &tls.Config{ServerName: sni, InsecureSkipVerify: true, NextProtos: []string{"h3"}}
		c, err := quic.Dial(ctx, udp, raddr, tc, &quic.Config{Versions: []quic.Version{quic.Version1}, MaxIdleTimeout: 30 * time.Second})
		if err != nil {
			udp.Close()
			return nil, nil, err
		}
		return c, udp, nil
	}
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	per := uint64(*bulkMB) << 20 / uint64(max(1, *bulkConns))
	share := uint64(*rate) << 20 / uint64(max(1, *bulkConns))
	for b := range *bulkConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
			defer cancel()
			c, udp, err := connect(ctx, b, fmt.Sprintf("bulk%d.bench.test", b))
			if err == nil {
				err = fetch(ctx, c, per, share)
				c.CloseWithError(0, "")
				udp.Close()
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "bulk %d: %v\n", b, err)
				failed.Add(1)
				return
			}
			ok.Add(1)
		}()
	}
	jobs := make(chan int)
	for range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				c, udp, err := connect(ctx, i, fmt.Sprintf("h%d.bench.test", i))
				if err == nil {
					err = fetch(ctx, c, 512, 0)
					c.CloseWithError(0, "")
					udp.Close()
				}
				cancel()
				if err != nil {
					failed.Add(1)
					continue
				}
				ok.Add(1)
			}
		}()
	}
	for i := range *n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	fmt.Fprintf(os.Stderr, "flood: %d connections ok, %d failed, in %v\n", ok.Load(), failed.Load(), time.Since(start).Round(time.Millisecond))
	if failed.Load() > 0 {
		return fmt.Errorf("%d connections failed", failed.Load())
	}
	return nil
}

// loadOrMakeCert loads a key pair, or without files makes a self-signed
// P-256 certificate.
func loadOrMakeCert(certFile, keyFile string) (tls.Certificate, error) {
	if certFile != "" || keyFile != "" {
		return tls.LoadX509KeyPair(certFile, keyFile)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "quicpeer.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// result is the client's own account of its connection.
type result struct {
	SNI         string `json:"sni"`
	Version     string `json:"version"`
	Cipher      string `json:"cipher"`
	CipherName  string `json:"cipher_name"`
	ALPN        string `json:"alpn"`
	QUICVersion string `json:"quic_version"`
	Group       string `json:"group"`
	HRR         bool   `json:"hrr"`
	Offered     int    `json:"alpn_offered"`
}

func dial(args []string) error {
	fs := flag.NewFlagSet("dial", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:4433", "server address")
	sni := fs.String("sni", "", "server name to send")
	v2 := fs.Bool("v2", false, "speak QUIC version 2 (RFC 9369) instead of version 1")
	curveList := fs.String("curves", "", "key exchange preferences (x25519, p256, p384, mlkem); empty: crypto/tls's defaults")
	extra := fs.Int("alpn-extra", 0, "offer this many more ALPN protocols after h3, to make the ClientHello larger")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cp, err := curves(*curveList)
	if err != nil {
		return err
	}
	protos := []string{"h3"}
	for i := range *extra {
		protos = append(protos, fmt.Sprintf("x-tlsmap-padding-%04d", i))
	}
	tc := &tls.Config{ServerName: *sni, InsecureSkipVerify: true, NextProtos: protos, CurvePreferences: cp}
	qc := &quic.Config{Versions: []quic.Version{quic.Version1}}
	if *v2 {
		qc.Versions = []quic.Version{quic.Version2}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := quic.DialAddr(ctx, *addr, tc, qc)
	if err != nil {
		return err
	}
	st := c.ConnectionState()
	qv := "v1"
	if st.Version == quic.Version2 {
		qv = "v2"
	}
	r := result{
		SNI: st.TLS.ServerName, Version: tlsVersion(st.TLS.Version),
		Cipher: fmt.Sprintf("0x%04X", st.TLS.CipherSuite), CipherName: tls.CipherSuiteName(st.TLS.CipherSuite),
		ALPN: st.TLS.NegotiatedProtocol, QUICVersion: qv, Group: st.TLS.CurveID.String(),
		HRR: st.TLS.HelloRetryRequest, Offered: len(protos),
	}
	if err := c.CloseWithError(0, ""); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

func tlsVersion(v uint16) string {
	switch v {
	case tls.VersionTLS13:
		return "TLSv1.3"
	case tls.VersionTLS12:
		return "TLSv1.2"
	}
	return fmt.Sprintf("0x%04X", v)
}
