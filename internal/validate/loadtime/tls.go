package loadtime

import (
	"strings"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// TLS and secret rules: source/common/tls (context_config_impl.cc, server_context_config_impl.cc,
// client_context_config_impl.cc, cert_validator) and source/common/secret/secret_manager_impl.cc.

func init() {
	register("envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext", serverCertificates)
	register("envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext", clientCertificates)
	register("envoy.extensions.transport_sockets.tls.v3.CommonTlsContext", staticSecretRefs)
	register("envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext", validationWithoutCA)
	register("envoy.config.bootstrap.v3.Bootstrap.StaticResources", duplicateSecrets)
}

// serverCertificates: a server presents a certificate, from one source. A custom handshaker may provide the
// certificates itself (its capabilities are not in the file), and a certificate selector may find them.
// Envoy: source/common/tls/server_context_config_impl.cc:157 [tls-036dd136] — "No TLS certificates found for server
// context"; :160 [tls-71635c94] — "SDS and non-SDS TLS certificates may not be mixed in server contexts". (The
// not-implemented certificate provider instance fields provide nothing.)
func serverCertificates(c *Context, m protoreflect.Message) {
	d, ok := m.Interface().(*tlsv3.DownstreamTlsContext)
	if !ok {
		return
	}
	ctx := d.GetCommonTlsContext()
	if ctx.GetCustomHandshaker() != nil {
		return
	}
	const src = "source/common/tls/server_context_config_impl.cc"
	static, sds := len(ctx.GetTlsCertificates()), len(ctx.GetTlsCertificateSdsSecretConfigs())
	switch {
	case static+sds == 0 && ctx.GetCustomTlsCertificateSelector() == nil:
		c.envoyf(c.at("common_tls_context"), src, "No TLS certificates found for server context")
	case static > 0 && sds > 0:
		c.envoyf(c.at("common_tls_context.tls_certificate_sds_secret_configs"), src,
			"SDS and non-SDS TLS certificates may not be mixed in server contexts")
	}
}

// clientCertificates: a client presents at most one certificate (unless a selector picks one), and the SNI is a C
// string.
// Envoy: source/common/tls/client_context_config_impl.cc — "Multiple TLS certificates are not supported for client
// contexts", "SNI names containing NULL-byte are not allowed".
func clientCertificates(c *Context, m protoreflect.Message) {
	u, ok := m.Interface().(*tlsv3.UpstreamTlsContext)
	if !ok {
		return
	}
	const src = "source/common/tls/client_context_config_impl.cc"
	ctx := u.GetCommonTlsContext()
	if len(ctx.GetTlsCertificates())+len(ctx.GetTlsCertificateSdsSecretConfigs()) > 1 && ctx.GetCustomTlsCertificateSelector() == nil {
		c.envoyf(c.at("common_tls_context"), src, "Multiple TLS certificates are not supported for client contexts")
	}
	if strings.ContainsRune(u.GetSni(), 0) {
		c.envoyf(c.at("sni"), src, "SNI names containing NULL-byte are not allowed")
	}
}

// secretKinds are the four independent namespaces of static secrets, by their oneof field in Secret.
var secretKinds = staticTable[string, string]{
	{"tls_certificate", "TlsCertificate"},
	{"validation_context", "CertificateValidationContext"},
	{"session_ticket_keys", "TlsSessionTicketKeys"},
	{"generic_secret", "GenericSecret"},
}

func secretKind(s *tlsv3.Secret) string {
	switch s.GetType().(type) {
	case *tlsv3.Secret_TlsCertificate:
		return "tls_certificate"
	case *tlsv3.Secret_ValidationContext:
		return "validation_context"
	case *tlsv3.Secret_SessionTicketKeys:
		return "session_ticket_keys"
	case *tlsv3.Secret_GenericSecret:
		return "generic_secret"
	}
	return ""
}

// hasStaticSecret reports a static secret of that kind and name.
func (c *Context) hasStaticSecret(kind, name string) bool {
	_, s := c.staticSecret(kind, name)
	return s != nil
}

// staticSecretRefs: a secret named without an sds_config must be a static secret of the right kind (certificate
// references are ignored when the context has inline certificates).
// Envoy: source/common/tls/context_config_impl.cc — "Unknown static secret: <name>", "Unknown static certificate
// validation context: <name>".
func staticSecretRefs(c *Context, m protoreflect.Message) {
	ctx, ok := m.Interface().(*tlsv3.CommonTlsContext)
	if !ok {
		return
	}
	const src = "source/common/tls/context_config_impl.cc"
	for i, ref := range ctx.GetTlsCertificateSdsSecretConfigs() {
		if len(ctx.GetTlsCertificates()) == 0 && ref.GetSdsConfig() == nil && ref.GetName() != "" && !c.hasStaticSecret("tls_certificate", ref.GetName()) {
			c.envoyf(index(c.at("tls_certificate_sds_secret_configs"), i)+".name", src, "Unknown static secret: %s", ref.GetName())
		}
	}
	if ref := ctx.GetValidationContextSdsSecretConfig(); ref != nil && ref.GetSdsConfig() == nil {
		if c.validationSecretsUsed == nil {
			c.validationSecretsUsed = map[string]bool{}
		}
		c.validationSecretsUsed[ref.GetName()] = true
	}
	validation := func(field string, ref *tlsv3.SdsSecretConfig) {
		if ref != nil && ref.GetSdsConfig() == nil && ref.GetName() != "" && !c.hasStaticSecret("validation_context", ref.GetName()) {
			c.envoyf(c.at(field)+".name", src, "Unknown static certificate validation context: %s", ref.GetName())
		}
	}
	validation("validation_context_sds_secret_config", ctx.GetValidationContextSdsSecretConfig())
	validation("combined_validation_context.validation_context_sds_secret_config",
		ctx.GetCombinedValidationContext().GetValidationContextSdsSecretConfig())
}

// validationWithoutCA: peer checks that only make sense against a trusted CA, in every validation context Envoy
// builds at load.
// Envoy: source/common/ssl/certificate_validation_context_config_impl.cc — "Failed to load
// CRL from <path> without trusted CA", "SAN-based verification of peer certificates without trusted CA is insecure
// and not allowed", "Certificate validity period is always ignored without trusted CA".
func validationWithoutCA(c *Context, m protoreflect.Message) {
	v, ok := m.Interface().(*tlsv3.CertificateValidationContext)
	if !ok || v.GetTrustedCa() != nil || v.GetCaCertificateProviderInstance() != nil || v.GetSystemRootCerts() != nil ||
		v.GetCustomValidatorConfig() != nil {
		return
	}
	if parent, _ := c.Parent(); parent != nil {
		switch parent.Descriptor().FullName() {
		case "envoy.extensions.transport_sockets.tls.v3.CommonTlsContext.CombinedCertificateValidationContext":
			return // merged with the context SDS delivers, which may bring the CA
		case "envoy.extensions.transport_sockets.tls.v3.Secret":
			// A static secret is only held by the secret manager (secret_manager_impl.cc addStaticSecret keeps the
			// proto); Envoy builds, and so checks, it only for a TLS context that names it. The walk visits
			// static_resources.listeners and clusters, where those contexts are, before static_resources.secrets.
			// A secret merged into a combined context is left alone (the default context may bring the CA).
			if s, ok := parent.Interface().(*tlsv3.Secret); ok && !c.validationSecretsUsed[s.GetName()] {
				return
			}
		}
	}
	const src = "source/common/ssl/certificate_validation_context_config_impl.cc"
	if crl := v.GetCrl(); crl != nil {
		path := crl.GetFilename()
		if path == "" {
			path = "<inline>"
		}
		c.envoyf(c.at("crl"), src, "Failed to load CRL from %s without trusted CA", path)
	}
	if len(v.GetMatchTypedSubjectAltNames()) > 0 || len(v.GetMatchSubjectAltNames()) > 0 {
		c.envoyf(c.Path(), src, "SAN-based verification of peer certificates without trusted CA is insecure and not allowed")
	}
	if v.GetAllowExpiredCertificate() {
		c.envoyf(c.at("allow_expired_certificate"), src, "Certificate validity period is always ignored without trusted CA")
	}
}

// duplicateSecrets: static secret names are unique per kind, and a static secret has a kind.
// Envoy: source/common/secret/secret_manager_impl.cc — "Duplicate static TlsCertificate secret name <n>" (and
// CertificateValidationContext, TlsSessionTicketKeys, GenericSecret); :75 [tls-4d056785] (addStaticSecret) — "Secret
// type not implemented".
func duplicateSecrets(c *Context, m protoreflect.Message) {
	sr, ok := m.Interface().(*bootstrapv3.Bootstrap_StaticResources)
	if !ok {
		return
	}
	seen := map[string]bool{}
	for i, s := range sr.GetSecrets() {
		kind := secretKind(s)
		if kind == "" {
			c.envoyf(index(c.at("secrets"), i), "source/common/secret/secret_manager_impl.cc",
				"Secret type not implemented (a static secret is a tls_certificate, validation_context, session_ticket_keys or generic_secret)")
			continue
		}
		key := kind + "/" + s.GetName()
		if seen[key] {
			c.envoyf(index(c.at("secrets"), i)+".name", "source/common/secret/secret_manager_impl.cc",
				"Duplicate static %s secret name %s", secretKinds.value(kind), s.GetName())
		}
		seen[key] = true
	}
}
