package loadtime

import (
	"slices"
	"strings"
	"sync"
)

// TLS parameters of a context Envoy creates at load: the cipher suites, ECDH curves and signature algorithms are
// handed to BoringSSL (SSL_CTX_set_strict_cipher_list, SSL_CTX_set1_curves_list, SSL_CTX_set1_sigalgs_list), whose
// parsers are followed here with the names the BoringSSL releases of Envoy 1.35-1.40 accept (a name any of them
// accepts is accepted); the ALPN list is parsed by Envoy.

const contextSource = "source/common/tls/context_impl.cc"

// tlsParams: the checks of ContextImpl's constructor on the context's parameters. A custom handshaker may provide
// its own ciphers, curves and signature algorithms.
// Envoy: source/common/tls/context_impl.cc:144 [tls-9882d1aa] (ContextImpl::ContextImpl) — "Failed to initialize cipher
// suites <list>. The following ciphers were rejected when tried individually: <names>"; :153 [tls-bc017969] —
// "Failed to initialize ECDH curves <list>"; :161 [tls-847b3e34] — "Failed to initialize TLS signature algorithms
// <list>"; :433, :442 [tls-96a87c0a] [tls-0e6b18dd] (parseAlpnProtocols) — "Invalid ALPN protocol string".
func (c *Context) tlsParams(t *tlsContext) {
	p := t.common.GetTlsParams()
	if !t.customHandshaker() {
		if list := strings.Join(p.GetCipherSuites(), ":"); list != "" {
			if bad, ok := cipherListOK(list); !ok {
				c.envoyf(t.at("tls_params.cipher_suites"), contextSource, "Failed to initialize cipher suites %s. The following ciphers "+
					"were rejected when tried individually: %s", list, strings.Join(bad, ", "))
			}
		}
		if curves := p.GetEcdhCurves(); len(curves) > 0 && !curveListOK(curves) {
			c.envoyf(t.at("tls_params.ecdh_curves"), contextSource, "Failed to initialize ECDH curves %s (BoringSSL knows P-256, P-384, "+
				"P-521, X25519, X25519MLKEM768, MLKEM1024)", strings.Join(curves, ":"))
		}
		if algs := p.GetSignatureAlgorithms(); len(algs) > 0 && !sigalgListOK(algs) {
			c.envoyf(t.at("tls_params.signature_algorithms"), contextSource, "Failed to initialize TLS signature algorithms %s "+
				"(names such as ecdsa_secp256r1_sha256 or rsa_pss_rsae_sha256, or pairs such as RSA+SHA256, each once)", strings.Join(algs, ":"))
		}
	}
	total := len(t.common.GetAlpnProtocols()) - 1
	for i, proto := range t.common.GetAlpnProtocols() {
		if total += len(proto); len(proto) > 255 {
			c.envoyf(index(t.at("alpn_protocols"), i), contextSource, "Invalid ALPN protocol string (a protocol name has at most 255 bytes)")
			return
		}
	}
	if total >= 65535 {
		c.envoyf(t.at("alpn_protocols"), contextSource, "Invalid ALPN protocol string (the list has at most 65534 bytes)")
	}
}

// bsslCiphers are BoringSSL's cipher suites by their OpenSSL and IETF names (ssl/ssl_cipher.cc, kCiphers); tls12
// says whether a cipher list rule can select it (the TLS 1.3 suites are known names that select nothing).
var bsslCiphers = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, c := range []struct {
		name, std string
		tls12     bool
	}{
		{"DES-CBC3-SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", true},
		{"AES128-SHA", "TLS_RSA_WITH_AES_128_CBC_SHA", true},
		{"AES256-SHA", "TLS_RSA_WITH_AES_256_CBC_SHA", true},
		{"PSK-AES128-CBC-SHA", "TLS_PSK_WITH_AES_128_CBC_SHA", true},
		{"PSK-AES256-CBC-SHA", "TLS_PSK_WITH_AES_256_CBC_SHA", true},
		{"AES128-GCM-SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256", true},
		{"AES256-GCM-SHA384", "TLS_RSA_WITH_AES_256_GCM_SHA384", true},
		{"TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", false},
		{"TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", false},
		{"TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256", false},
		{"ECDHE-ECDSA-AES128-SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", true},
		{"ECDHE-ECDSA-AES256-SHA", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", true},
		{"ECDHE-RSA-AES128-SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", true},
		{"ECDHE-RSA-AES256-SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", true},
		{"ECDHE-ECDSA-AES128-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", true},
		{"ECDHE-RSA-AES128-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", true},
		{"ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", true},
		{"ECDHE-ECDSA-AES256-GCM-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", true},
		{"ECDHE-RSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", true},
		{"ECDHE-RSA-AES256-GCM-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", true},
		{"ECDHE-PSK-AES128-CBC-SHA", "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA", true},
		{"ECDHE-PSK-AES256-CBC-SHA", "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA", true},
		{"ECDHE-RSA-CHACHA20-POLY1305", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", true},
		{"ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", true},
		{"ECDHE-PSK-CHACHA20-POLY1305", "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256", true},
	} {
		m[c.name], m[c.std] = c.tls12, c.tls12
	}
	return m
})

// bsslCipherAliases are the rule names of BoringSSL's cipher lists (kCipherAliases; SHA256 and SHA384 were dropped
// in 2025 and still count).
var bsslCipherAliases = staticSet[string]{
	"ALL", "kRSA", "kECDHE", "kEECDH", "ECDH", "kPSK", "aRSA", "aECDSA", "ECDSA", "aPSK", "ECDHE", "EECDH", "RSA",
	"PSK", "3DES", "AES128", "AES256", "AES", "AESGCM", "CHACHA20", "SHA1", "SHA", "SSLv3", "TLSv1", "TLSv1.2",
	"HIGH", "FIPS", "SHA256", "SHA384",
}

// cipherListOK parses a cipher list as SSL_CTX_set_strict_cipher_list does (ssl_create_cipher_list, strict), and
// reports whether it is accepted; bad lists its parts that BoringSSL rejects one by one, as Envoy does for its
// message. A list that only names TLS 1.3 suites selects nothing, which BoringSSL refuses; other lists that select
// nothing (aliases that match no suite) are not told apart.
func cipherListOK(list string) (bad []string, ok bool) {
	if cipherRuleOK(list) {
		return nil, true
	}
	for _, part := range strings.FieldsFunc(list, func(r rune) bool { return strings.ContainsRune(":+![|]", r) }) {
		if part = strings.TrimPrefix(part, "-"); !cipherRuleOK(part) {
			bad = append(bad, part)
		}
	}
	return bad, false
}

func cipherRuleOK(rules string) bool {
	selects := false
	if strings.HasPrefix(rules, "DEFAULT") {
		rules, selects = strings.TrimPrefix(strings.TrimPrefix(rules, "DEFAULT"), ":"), true
	}
	adds, valid := cipherRules(rules)
	return valid && (selects || adds)
}

func isAlnum(b byte) bool { return b >= '0' && b <= '9' || b|0x20 >= 'a' && b|0x20 <= 'z' }

// The rules of a cipher list, by their operator character (none: add).
const (
	add = iota
	del
	ord
	kill
	special
)

// cipherOperator returns the rule of an operator character, and whether ch is one.
func cipherOperator(ch byte) (int, bool) {
	switch ch {
	case '-':
		return del, true
	case '+':
		return ord, true
	case '!':
		return kill, true
	case '@':
		return special, true
	}
	return add, false
}

// cipherRules follows ssl_cipher_process_rulestr in strict mode: valid is false where it fails, adds says whether
// some rule adds a TLS 1.2 suite or an alias.
func cipherRules(s string) (adds, valid bool) {
	at := func(i int) byte {
		if i < len(s) {
			return s[i]
		}
		return 0
	}
	inGroup, hasGroup := false, false
	for l := 0; l < len(s); {
		ch, rule := s[l], add
		op, isOp := cipherOperator(ch)
		switch {
		case inGroup && ch == ']':
			inGroup = false
			l++
			continue
		case inGroup && ch == '|':
			l++
			continue
		case inGroup && !isAlnum(ch):
			return adds, false // SSL_R_UNEXPECTED_OPERATOR_IN_GROUP
		case inGroup:
		case isOp:
			rule = op
			l++
		case ch == '[':
			inGroup, hasGroup = true, true
			l++
			continue
		}
		if hasGroup && rule != add {
			return adds, false // SSL_R_MIXED_SPECIAL_OPERATOR_WITH_GROUPS
		}
		if ch == ':' {
			l++
			continue
		}
		multi := false
		for {
			start := l
			for c := at(l); isAlnum(c) || c == '-' || c == '.' || c == '_'; c = at(l) {
				l++
			}
			if l == start {
				return adds, false // SSL_R_INVALID_COMMAND
			}
			if rule == special {
				if s[start:l] != "STRENGTH" {
					return adds, false
				}
				for l < len(s) && s[l] != ':' {
					l++
				}
				break
			}
			word := s[start:l]
			tls12, isCipher := bsslCiphers()[word]
			if multi || at(l) == '+' || !isCipher {
				if !bsslCipherAliases.has(word) {
					return adds, false // strict: an unknown name is SSL_R_INVALID_COMMAND
				}
				tls12 = true
			}
			if rule == add && tls12 {
				adds = true
			}
			if at(l) != '+' {
				break
			}
			l++
			multi = true
		}
	}
	return adds, !inGroup
}

// bsslCurves are the group names and aliases of BoringSSL's kNamedGroups in Envoy 1.35-1.40 (P-224 until 2025).
var bsslCurves = staticSet[string]{
	"P-224", "secp224r1", "P-256", "prime256v1", "P-384", "secp384r1", "P-521", "secp521r1", "X25519", "x25519",
	"X25519Kyber768Draft00", "X25519MLKEM768", "MLKEM1024",
}

// curveListOK follows ssl_str_to_group_ids on the list Envoy joins with colons: every colon-separated name is a
// group. (Newer BoringSSL also refuses a group named twice; older releases did not, so that is not checked.)
func curveListOK(curves []string) bool {
	for _, elem := range curves {
		for rest, more := elem, true; more; {
			var name string
			name, rest, more = strings.Cut(rest, ":")
			if !bsslCurves.has(name) {
				return false
			}
		}
	}
	return true
}

// bsslSigalgs are BoringSSL's signature algorithm names (kSignatureAlgorithmNames) and the pairs of a public key
// type and a hash (kSignatureAlgorithmsMapping), by the algorithm's code point.
var (
	bsslSigalgNames = staticTable[string, uint16]{
		{"rsa_pkcs1_md5_sha1", 0xff01}, {"rsa_pkcs1_sha1", 0x0201}, {"rsa_pkcs1_sha256", 0x0401}, {"rsa_pkcs1_sha256_legacy", 0x0420},
		{"rsa_pkcs1_sha384", 0x0501}, {"rsa_pkcs1_sha512", 0x0601}, {"ecdsa_sha1", 0x0203}, {"ecdsa_secp256r1_sha256", 0x0403},
		{"ecdsa_secp384r1_sha384", 0x0503}, {"ecdsa_secp521r1_sha512", 0x0603}, {"rsa_pss_rsae_sha256", 0x0804},
		{"rsa_pss_rsae_sha384", 0x0805}, {"rsa_pss_rsae_sha512", 0x0806}, {"ed25519", 0x0807}, {"mldsa44", 0x0904}, {"mldsa65", 0x0905},
		{"mldsa87", 0x0906},
	}
	bsslSigalgPairs = staticTable[string, uint16]{
		{"RSA+SHA1", 0x0201}, {"RSA+SHA256", 0x0401}, {"RSA+SHA384", 0x0501}, {"RSA+SHA512", 0x0601},
		{"RSA-PSS+SHA256", 0x0804}, {"RSA-PSS+SHA384", 0x0805}, {"RSA-PSS+SHA512", 0x0806},
		{"PSS+SHA256", 0x0804}, {"PSS+SHA384", 0x0805}, {"PSS+SHA512", 0x0806},
		{"ECDSA+SHA1", 0x0203}, {"ECDSA+SHA256", 0x0403}, {"ECDSA+SHA384", 0x0503}, {"ECDSA+SHA512", 0x0603},
	}
)

// sigalgListOK follows parse_sigalgs_list and the duplicate check of set_sigalg_prefs on the list Envoy joins with
// colons: each colon-separated element is a name or a KEY+HASH pair, and no algorithm comes twice.
func sigalgListOK(algs []string) bool {
	var seen [8]uint16
	ids := seen[:0]
	for _, elem := range algs {
		for rest, more := elem, true; more; {
			var name string
			name, rest, more = strings.Cut(rest, ":")
			id, ok := bsslSigalgNames.get(name)
			if !ok {
				id, ok = bsslSigalgPairs.get(name)
			}
			if !ok || slices.Contains(ids, id) {
				return false
			}
			ids = append(ids, id)
		}
	}
	return true
}
