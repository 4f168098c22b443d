package realserver

// The TLS 1.3 suites OpenSSL implements, in its default order of
// preference, CCM after GCM and ChaCha20.
const AllTLS13Suites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256"

// Every suite OpenSSL knows; TLS 1.0 and 1.1 need security level 0 in
// OpenSSL 3 (they sign with SHA-1).
const allSuites = "ALL:COMPLEMENTOFALL:@SECLEVEL=0"

// ServerOrderSuites is the fixed order of the openssl-serverpref server
// for TLS ≤ 1.2: deliberately not the order of any registry or of
// OpenSSL's defaults, AES-GCM ahead of ChaCha20 (which -prioritize_chacha
// may promote), a CBC suite between AEAD ones, static RSA ahead of ECDHE.
const ServerOrderSuites = "ECDHE-RSA-AES256-GCM-SHA384:AES128-SHA:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-SHA:DHE-RSA-AES256-SHA256:AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES128-SHA"

// ServerOrderSuites13 is the openssl-serverpref server's TLS 1.3 order.
const ServerOrderSuites13 = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256:TLS_AES_128_GCM_SHA256"

// Mozilla's "old" and "intermediate" TLS ≤ 1.2 lists (ssl-config.mozilla.org, v5.7).
const (
	mozillaOld = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" +
		"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:" +
		"DHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:" +
		"ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:DHE-RSA-AES128-SHA256:" +
		"DHE-RSA-AES256-SHA256:AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256:AES256-SHA256:AES128-SHA:AES256-SHA:DES-CBC3-SHA"
	mozillaIntermediate = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" +
		"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"
)

// Configs returns the servers the real-server tests and the scan
// benchmark run: seven openssl s_server setups and two nginx ones.
func Configs() []Config {
	return []Config{
		{Name: "openssl-tls10", Software: OpenSSL, Key: RSA2048,
			Args: []string{"-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"}},
		{Name: "openssl-tls11", Software: OpenSSL, Key: RSA2048,
			Args: []string{"-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"}},
		{Name: "openssl-legacy-wide", Software: OpenSSL, Key: RSA2048,
			Args: []string{"-min_protocol", "TLSv1", "-max_protocol", "TLSv1.2", "-cipher", allSuites}},
		{Name: "openssl-aead", Software: OpenSSL, Key: RSA2048,
			Args: []string{"-min_protocol", "TLSv1.2", "-cipher", "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:ECDHE+AESCCM:DHE+AESCCM"}},
		{Name: "openssl-tls13", Software: OpenSSL, Key: RSA2048,
			Args: []string{"-tls1_3", "-ciphersuites", AllTLS13Suites}},
		{Name: "openssl-serverpref", Software: OpenSSL, Key: RSA2048, ServerOrder: true,
			Args: []string{"-min_protocol", "TLSv1", "-serverpref", "-prioritize_chacha",
				"-cipher", ServerOrderSuites + ":@SECLEVEL=0", "-ciphersuites", ServerOrderSuites13}},
		{Name: "openssl-ecdsa", Software: OpenSSL, Key: ECDSAP256,
			Args: []string{"-min_protocol", "TLSv1", "-cipher", allSuites, "-ciphersuites", AllTLS13Suites}},
		{Name: "nginx-legacy", Software: Nginx, Key: RSA2048, ServerOrder: true,
			Protocols: []string{"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}, Ciphers: mozillaOld + ":@SECLEVEL=0",
			PreferServerCiphers: true, DHParamBits: 1024},
		{Name: "nginx-modern", Software: Nginx, Key: RSA2048,
			Protocols: []string{"TLSv1.2", "TLSv1.3"}, Ciphers: mozillaIntermediate,
			Curves: "X25519:prime256v1:secp384r1", DHParamBits: 2048},
	}
}

// ConfigByName returns the Configs entry named name.
func ConfigByName(name string) (Config, bool) {
	for _, c := range Configs() {
		if c.Name == name {
			return c, true
		}
	}
	return Config{}, false
}
