module github.com/tlsmap/tlsmap

go 1.26.0

require (
	github.com/gopacket/gopacket v1.7.7
	github.com/rogpeppe/go-internal v1.16.0
	github.com/zmap/zcrypto v0.0.0-20260725024403-2c658ce3c66f
	golang.org/x/crypto v0.59.0
)

require (
	github.com/emersion/go-imap v1.2.1 // indirect
	github.com/weppos/publicsuffix-go v0.50.4-0.20260715080728-6ed62ce99a4a // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.44.0 // indirect
	golang.org/x/tools v0.52.0 // indirect
)
