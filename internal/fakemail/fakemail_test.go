package fakemail

import (
	"bufio"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestServerRecordsLines(t *testing.T) {
	srv := Start(t, SMTP(Normal))
	c := Dial(t, srv.Addr)
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	read := func() string {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if l := read(); !strings.HasPrefix(l, "220-") {
		t.Fatalf("greeting %q", l)
	}
	read()
	c.Write([]byte("EHLO a\r\n"))
	for !strings.HasPrefix(read(), "250 ") {
	}
	c.Write([]byte("QUIT\r\n"))
	if l := read(); !strings.HasPrefix(l, "221 ") {
		t.Fatalf("QUIT reply %q", l)
	}
	if got := srv.Lines(); !slices.Equal(got, []string{"EHLO a", "QUIT"}) {
		t.Errorf("Lines %q", got)
	}
	if c.BytesRead() == 0 {
		t.Error("BytesRead is 0")
	}
}

func TestCloseStopsHandlers(t *testing.T) {
	srv := Start(t, func(c *Conn) { c.Repeat("250-X\r\n") })
	Dial(t, srv.Addr)
	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not stop a handler writing forever")
	}
}

func TestModeNames(t *testing.T) {
	for m := Normal; m <= NoEHLO; m++ {
		if s := m.String(); s == "" || s == "mode(?)" {
			t.Errorf("Mode(%d) has no name", m)
		}
	}
}
