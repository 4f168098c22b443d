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
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
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
	certFile := fs.String("cert", "", "certificate (PEM)")
	keyFile := fs.String("key", "", "private key (PEM)")
	retry := fs.Bool("retry", false, "validate every client address with a Retry packet")
	hrrCurves := fs.String("hrr-curves", "p256", "the only curves offered to clients whose SNI starts with hrr.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
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
		go func() {
			// Wait for the client to close after the handshake.
			<-c.Context().Done()
		}()
	}
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
