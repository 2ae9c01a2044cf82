package loadtime

import (
	"encoding/base64"
	"strings"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Certificate validators: source/common/tls/cert_validator/default_validator.cc and the SPIFFE validator
// (source/extensions/transport_sockets/tls/cert_validator/spiffe), created with a TLS context.

func init() {
	register("envoy.extensions.transport_sockets.tls.v3.SPIFFECertValidatorConfig", spiffeTrustDomains)
}

// The certificate validator factories Envoy 1.35-1.40 registers, found by the custom_validator_config's name.
var certValidatorNames = staticSet[string]{
	"envoy.tls.cert_validator.default", "envoy.tls.cert_validator.spiffe", "envoy.tls.cert_validator.dynamic_modules",
}

const defaultValidatorSource = "source/common/tls/cert_validator/default_validator.cc"

// tlsValidator: the validator of a context created at load is found by name, and the default one checks the
// validation context's pins, SAN matchers and, with auto_sni_san_validation, that a CA is trusted.
// Envoy: source/common/tls/context_impl.cc:93 [tls-114af4e4] (ContextImpl::ContextImpl) — "Failed to get certificate
// validator factory for <name>"; source/common/tls/cert_validator/default_validator.cc:128 [tls-6ea570f3]
// (initializeSslContexts) — "'auto_sni_san_validation' was configured without configuring a trusted CA"; :167
// [tls-6992436b] — "Failed to create string SAN matcher of type <t>" (an OTHER_NAME matcher without an OID); :184
// [tls-3452a479] — "Invalid hex-encoded SHA-256 <h>"; :195 [tls-807a82c8] — "Invalid base64-encoded SHA-256 <h>".
func (c *Context) tlsValidator(t *tlsContext, autoSni bool) {
	cvc := t.cvc
	if cvc == nil {
		return
	}
	if cv := cvc.GetCustomValidatorConfig(); cv != nil {
		if !certValidatorNames.has(cv.GetName()) {
			c.envoyf(t.cvcField("custom_validator_config.name"), contextSource, "Failed to get certificate validator factory for %s "+
				"(the validators are envoy.tls.cert_validator.default, envoy.tls.cert_validator.spiffe and "+
				"envoy.tls.cert_validator.dynamic_modules)", cv.GetName())
		}
		if cv.GetName() != "envoy.tls.cert_validator.default" {
			return
		}
	}
	if empty, _ := emptyData(cvc.GetTrustedCa()); autoSni && empty {
		c.envoyf(t.cvcField("trusted_ca"), defaultValidatorSource, "'auto_sni_san_validation' was configured without configuring a trusted CA")
	}
	for i, m := range cvc.GetMatchTypedSubjectAltNames() {
		if m.GetSanType() == tlsv3.SubjectAltNameMatcher_OTHER_NAME && m.GetOid() == "" {
			c.envoyf(t.cvcItem("match_typed_subject_alt_names", i, "oid"), defaultValidatorSource,
				"Failed to create string SAN matcher of type OTHER_NAME (an OTHER_NAME matcher needs an oid)")
		}
	}
	for i, h := range cvc.GetVerifyCertificateHash() {
		if len(h) == 95 {
			h = strings.ReplaceAll(h, ":", "")
		}
		if len(h) != 64 || !envoyHex(h) {
			c.envoyf(t.cvcItem("verify_certificate_hash", i, ""), defaultValidatorSource, "Invalid hex-encoded SHA-256 %s", h)
		}
	}
	for i, h := range cvc.GetVerifyCertificateSpki() {
		if b, err := base64.StdEncoding.Strict().DecodeString(h); err != nil || len(b) != 32 || strings.ContainsAny(h, "\r\n") {
			c.envoyf(t.cvcItem("verify_certificate_spki", i, ""), defaultValidatorSource, "Invalid base64-encoded SHA-256 %s", h)
		}
	}
}

// spiffeTrustDomains: the SPIFFE validator of a context created at load keeps one trust bundle per trust domain.
// Envoy: source/extensions/transport_sockets/tls/cert_validator/spiffe/spiffe_validator.cc:191 [tls-3aaf7ce8]
// (SPIFFEValidator::SPIFFEValidator) — "Multiple trust bundles are given for one trust domain for <domain>".
func spiffeTrustDomains(c *Context, m protoreflect.Message) {
	s, ok := m.Interface().(*tlsv3.SPIFFECertValidatorConfig)
	if !ok || s.GetTrustBundles() != nil || len(s.GetTrustDomains()) < 2 {
		return
	}
	common := c.Ancestor("envoy.extensions.transport_sockets.tls.v3.CommonTlsContext")
	if common == nil {
		return // in a static secret: checked if and when a context uses it (not done here)
	}
	var t tlsContext
	ctx, _ := common.Interface().(*tlsv3.CommonTlsContext)
	if t.load(c, ctx); !t.ready {
		return
	}
	seen := map[string]bool{}
	for i, d := range s.GetTrustDomains() {
		if seen[d.GetName()] {
			c.envoyf(index(c.at("trust_domains"), i)+".name", "source/extensions/transport_sockets/tls/cert_validator/spiffe/spiffe_validator.cc",
				"Multiple trust bundles are given for one trust domain for %s", d.GetName())
		}
		seen[d.GetName()] = true
	}
}

// envoyHex reports whether Envoy's Hex::decode (source/common/common/hex.cc) decodes s to something: a non-empty
// even-length string whose every pair strtoull reads whole in base 16, which also lets a pair start with white
// space or a sign.
func envoyHex(s string) bool {
	if s == "" || len(s)%2 != 0 {
		return false
	}
	isHex := func(b byte) bool { return b >= '0' && b <= '9' || b|0x20 >= 'a' && b|0x20 <= 'f' }
	for i := 0; i < len(s); i += 2 {
		a, b := s[i], s[i+1]
		if !isHex(b) || !isHex(a) && !strings.ContainsRune(" \t\n\v\f\r+-", rune(a)) {
			return false
		}
	}
	return true
}
