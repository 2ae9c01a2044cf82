package loadtime

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// TLS contexts as Envoy builds them at load: the configs (source/common/tls/context_config_impl.cc,
// server_context_config_impl.cc, source/common/ssl/tls_certificate_config_impl.cc) read the inline and static secrets;
// the contexts themselves (context_impl.cc, server_context_impl.cc, client_context_impl.cc and the certificate
// validator) are created at load only when no secret waits for SDS (ContextConfigImpl::isReady), otherwise when SDS
// delivers it.

func init() {
	register("envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext", tlsServerContext)
	register("envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext", tlsClientContext)
}

// tlsCert is a certificate a context loads: an entry of its tls_certificates, or a static secret.
type tlsCert struct {
	cert   *tlsv3.TlsCertificate
	index  int  // in tls_certificates, or in static_resources.secrets
	secret bool // a static secret
}

// Where a context's validation context comes from.
const (
	cvcInline   = iota // validation_context
	cvcSecret          // a static secret named by validation_context_sds_secret_config
	cvcCombined        // combined_validation_context merged with its static secret
)

// tlsContext is what the rules of one context need to know of it. Paths are rendered only for a problem.
type tlsContext struct {
	c       *Context
	common  *tlsv3.CommonTlsContext
	certs   []tlsCert // the certificates available at load
	ready   bool      // nothing waits for SDS: the context is created at load
	cvc     *tlsv3.CertificateValidationContext
	cvcFrom int
	cvcAt   int // the static secret's index, for cvcSecret
}

// load gathers the certificates and the validation context of a CommonTlsContext held in the field
// common_tls_context of the message being checked.
func (t *tlsContext) load(c *Context, common *tlsv3.CommonTlsContext) {
	*t = tlsContext{c: c, common: common, ready: true}
	if len(common.GetTlsCertificates()) > 0 {
		for i, cert := range common.GetTlsCertificates() {
			if cert.GetPrivateKeyProvider() == nil && cert.GetCertificateChain() == nil && cert.GetPrivateKey() == nil && cert.GetPkcs12() == nil {
				continue // skipped by getTlsCertificateConfigProviders
			}
			t.certs = append(t.certs, tlsCert{cert: cert, index: i})
		}
	} else {
		for _, ref := range common.GetTlsCertificateSdsSecretConfigs() {
			if ref.GetSdsConfig() != nil {
				t.ready = false
				continue
			}
			if i, s := c.staticSecret("tls_certificate", ref.GetName()); s != nil {
				t.certs = append(t.certs, tlsCert{cert: s.GetTlsCertificate(), index: i, secret: true})
			}
		}
	}
	switch v := common.GetValidationContextType().(type) {
	case *tlsv3.CommonTlsContext_ValidationContext:
		t.cvc = v.ValidationContext
	case *tlsv3.CommonTlsContext_ValidationContextSdsSecretConfig:
		t.cvc, t.cvcAt = c.staticValidationContext(v.ValidationContextSdsSecretConfig)
		t.cvcFrom, t.ready = cvcSecret, t.ready && t.cvc != nil
	case *tlsv3.CommonTlsContext_CombinedValidationContext:
		cvc, _ := c.staticValidationContext(v.CombinedValidationContext.GetValidationContextSdsSecretConfig())
		if t.ready = t.ready && cvc != nil; cvc != nil {
			merged := &tlsv3.CertificateValidationContext{}
			proto.Merge(merged, v.CombinedValidationContext.GetDefaultValidationContext())
			proto.Merge(merged, cvc)
			t.cvc, t.cvcFrom = merged, cvcCombined
		}
	}
}

// staticValidationContext returns the static validation context secret an SDS config names, and its index; nil
// when it comes from SDS (or is unknown, reported by staticSecretRefs).
func (c *Context) staticValidationContext(ref *tlsv3.SdsSecretConfig) (*tlsv3.CertificateValidationContext, int) {
	if ref.GetSdsConfig() != nil {
		return nil, -1
	}
	i, s := c.staticSecret("validation_context", ref.GetName())
	return s.GetValidationContext(), i
}

// at returns the path of a field of the CommonTlsContext.
func (t *tlsContext) at(field string) string { return t.c.at(join("common_tls_context", field)) }

// certPath returns the path of a certificate.
func (t *tlsContext) certPath(tc tlsCert) string {
	if tc.secret {
		return index("static_resources.secrets", tc.index) + ".tls_certificate"
	}
	return index(t.at("tls_certificates"), tc.index)
}

// cvcPath returns the path of the validation context checked.
func (t *tlsContext) cvcPath() string {
	switch t.cvcFrom {
	case cvcSecret:
		return index("static_resources.secrets", t.cvcAt) + ".validation_context"
	case cvcCombined:
		return t.at("combined_validation_context")
	}
	return t.at("validation_context")
}

// cvcField and cvcItem return the path of a field (or of an item of a list field) of the validation context, or of
// the combined validation context when the one checked is merged from two.
func (t *tlsContext) cvcField(field string) string {
	if t.cvcFrom == cvcCombined {
		return t.cvcPath()
	}
	return join(t.cvcPath(), field)
}

func (t *tlsContext) cvcItem(field string, i int, sub string) string {
	if t.cvcFrom == cvcCombined {
		return t.cvcPath()
	}
	p := index(join(t.cvcPath(), field), i)
	if sub == "" {
		return p
	}
	return join(p, sub)
}

// customHandshaker reports a handshaker extension, whose capabilities (providing certificates, ciphers...) the file
// does not tell.
func (t *tlsContext) customHandshaker() bool { return t.common.GetCustomHandshaker() != nil }

// tlsServerContext: the checks of a DownstreamTlsContext.
func tlsServerContext(c *Context, m protoreflect.Message) {
	d, ok := m.Interface().(*tlsv3.DownstreamTlsContext)
	if !ok {
		return
	}
	var t tlsContext
	t.load(c, d.GetCommonTlsContext())
	c.tlsCertificates(&t)
	c.sessionTicketKeys(d, &t)
	c.onDemandSelector(d, &t)
	if !t.ready {
		return
	}
	c.tlsParams(&t)
	c.tlsValidator(&t, false)
	c.serverCertificatesLoaded(d, &t)
}

// tlsClientContext: the checks of an UpstreamTlsContext.
func tlsClientContext(c *Context, m protoreflect.Message) {
	u, ok := m.Interface().(*tlsv3.UpstreamTlsContext)
	if !ok {
		return
	}
	var t tlsContext
	t.load(c, u.GetCommonTlsContext())
	c.tlsCertificates(&t)
	if !t.ready {
		return
	}
	c.tlsParams(&t)
	c.tlsValidator(&t, u.GetAutoSniSanValidation())
	c.clientContextLoaded(u, &t)
}

const (
	tlsCertSource       = "source/common/ssl/tls_certificate_config_impl.cc"
	serverContextSource = "source/common/tls/server_context_impl.cc"
	clientContextSource = "source/common/tls/client_context_impl.cc"
)

// tlsCertificates: each certificate is a PKCS#12 bundle or a chain and a key, and an OCSP staple is bytes.
// Envoy: source/common/ssl/tls_certificate_config_impl.cc:38 [tls-af9ae6cb] (maybeReadOcspStaple) — "OCSP staple
// cannot be provided via inline_string"; :87, :91, :95 [tls-841325a8] [tls-463ca466] [tls-b6bc45fa] — "Certificate
// configuration can't have both pkcs12 and private_key" (and certificate_chain, private_key_provider); :118
// [tls-3ac121f1] — "Failed to load incomplete certificate from <path>: certificate chain not set"; :124 [tls-2cd0f7e2]
// — "Failed to load incomplete private key from path: <path>" (decided here when the data is absent or inline and
// empty; a file is read by Envoy).
func (c *Context) tlsCertificates(t *tlsContext) {
	for _, tc := range t.certs {
		cert, at := tc.cert, func() string { return t.certPath(tc) }
		if _, inline := cert.GetOcspStaple().GetSpecifier().(*corev3.DataSource_InlineString); inline {
			c.envoyf(at()+".ocsp_staple.inline_string", tlsCertSource, "OCSP staple cannot be provided via inline_string (use inline_bytes or a file)")
			continue
		}
		if cert.GetPkcs12() != nil {
			for _, other := range []struct {
				field string
				set   bool
			}{{"private_key", cert.GetPrivateKey() != nil}, {"certificate_chain", cert.GetCertificateChain() != nil},
				{"private_key_provider", cert.GetPrivateKeyProvider() != nil}} {
				if other.set {
					c.envoyf(at()+"."+other.field, tlsCertSource, "Certificate configuration can't have both pkcs12 and %s", other.field)
				}
			}
			continue
		}
		if empty, path := emptyData(cert.GetCertificateChain()); empty {
			c.envoyf(at()+".certificate_chain", tlsCertSource, "Failed to load incomplete certificate from %s: certificate chain not set", path)
		}
		if empty, path := emptyData(cert.GetPrivateKey()); empty && cert.GetPrivateKeyProvider() == nil {
			c.envoyf(at()+".private_key", tlsCertSource, "Failed to load incomplete private key from path: %s", path)
		}
	}
}

// emptyData reports a DataSource that certainly reads as empty (absent, or empty inline), with the path Envoy names
// it by.
func emptyData(d *corev3.DataSource) (empty bool, path string) {
	switch s := d.GetSpecifier().(type) {
	case nil:
		return true, ""
	case *corev3.DataSource_InlineString:
		return s.InlineString == "", ""
	case *corev3.DataSource_InlineBytes:
		return len(s.InlineBytes) == 0, ""
	}
	return false, ""
}

// inlineData returns the bytes of an inline DataSource; ok is false for a file or an environment variable.
func inlineData(d *corev3.DataSource) (data []byte, ok bool) {
	switch s := d.GetSpecifier().(type) {
	case *corev3.DataSource_InlineString:
		return []byte(s.InlineString), true
	case *corev3.DataSource_InlineBytes:
		return s.InlineBytes, true
	}
	return nil, false
}

// serverCertificatesLoaded: a server context created at load presents a certificate, stapling an OCSP response to
// each when the policy requires it.
// Envoy: source/common/tls/server_context_impl.cc:117 [tls-0310f701] (ServerContextImpl::ServerContextImpl) — "Server
// TlsCertificates must have a certificate specified"; :214 [tls-780921c4] — "Required OCSP response is missing from TLS
// context" (or, for a must-staple certificate, :209 "OCSP response is required for must-staple certificate").
func (c *Context) serverCertificatesLoaded(d *tlsv3.DownstreamTlsContext, t *tlsContext) {
	if t.customHandshaker() || t.common.GetCustomTlsCertificateSelector() != nil {
		return
	}
	if len(t.certs) == 0 && len(t.common.GetTlsCertificates()) > 0 {
		c.envoyf(t.at("tls_certificates"), serverContextSource, "Server TlsCertificates must have a certificate specified "+
			"(no entry sets certificate_chain, private_key, pkcs12 or private_key_provider)")
		return
	}
	if d.GetOcspStaplePolicy() != tlsv3.DownstreamTlsContext_MUST_STAPLE {
		return
	}
	for _, tc := range t.certs {
		if empty, _ := emptyData(tc.cert.GetOcspStaple()); empty {
			c.envoyf(t.certPath(tc)+".ocsp_staple", serverContextSource, "Required OCSP response is missing from TLS context "+
				"(ocsp_staple_policy is MUST_STAPLE)")
		}
	}
}

// clientContextLoaded: a client context created at load validates SANs against its SNI only with a validation
// context, and holds one certificate (two only get past the config with a certificate selector).
// Envoy: source/common/tls/client_context_impl.cc:75 [tls-0e9ba153] (ClientContextImpl::ClientContextImpl) —
// "'auto_sni_san_validation' was configured without a validation context"; :83 [tls-a9f1f8d6] — "Client TLS context
// supports only a single certificate".
func (c *Context) clientContextLoaded(u *tlsv3.UpstreamTlsContext, t *tlsContext) {
	if u.GetAutoSniSanValidation() && t.common.GetValidationContextType() == nil {
		c.envoyf(c.at("auto_sni_san_validation"), clientContextSource, "'auto_sni_san_validation' was configured without a validation context")
	}
	if len(t.certs) > 1 && t.common.GetCustomTlsCertificateSelector() != nil {
		c.envoyf(t.at("tls_certificates"), clientContextSource, "Client TLS context supports only a single certificate (%d given)", len(t.certs))
	}
}

// sessionTicketKeys: a static session ticket keys secret exists, and each key is 80 bytes.
// Envoy: source/common/tls/server_context_config_impl.cc:58 [tls-e29410b7] (getTlsSessionTicketKeysConfigProvider) —
// "Unknown tls session ticket keys: <name>"; :250 [tls-55a10fe0] (getSessionTicketKey) — "Incorrect TLS session
// ticket key length. Length <n>, expected length 80." (decided here for inline keys; a file is read by Envoy).
func (c *Context) sessionTicketKeys(d *tlsv3.DownstreamTlsContext, t *tlsContext) {
	const src = "source/common/tls/server_context_config_impl.cc"
	keys, at := d.GetSessionTicketKeys(), func() string { return c.at("session_ticket_keys") }
	if ref := d.GetSessionTicketKeysSdsSecretConfig(); ref != nil && ref.GetSdsConfig() == nil {
		i, s := c.staticSecret("session_ticket_keys", ref.GetName())
		if s == nil {
			c.envoyf(c.at("session_ticket_keys_sds_secret_config.name"), src, "Unknown tls session ticket keys: %s", ref.GetName())
			return
		}
		keys, at = s.GetSessionTicketKeys(), func() string { return index("static_resources.secrets", i) + ".session_ticket_keys" }
	}
	for i, k := range keys.GetKeys() {
		if data, inline := inlineData(k); inline && len(data) != 80 {
			c.envoyf(index(at()+".keys", i), src, "Incorrect TLS session ticket key length. Length %d, expected length 80.", len(data))
		}
	}
}

// onDemandSelector: the on-demand certificate selector works on TCP listeners without session resumption.
// Envoy: source/extensions/transport_sockets/tls/cert_selectors/on_demand/config.cc:314 [tls-d751ae23]
// (createTlsCertificateSelectorFactory) — "Does not support QUIC listeners."; :322 [tls-8c523b34] — "On demand
// certificates are not integrated with session resumption support."
func (c *Context) onDemandSelector(d *tlsv3.DownstreamTlsContext, t *tlsContext) {
	sel := t.common.GetCustomTlsCertificateSelector()
	if extensionType(sel.GetTypedConfig().ProtoReflect()) != "envoy.extensions.transport_sockets.tls.cert_selectors.on_demand_secret.v3.Config" {
		return
	}
	const src = "source/extensions/transport_sockets/tls/cert_selectors/on_demand/config.cc"
	if parent, _ := c.Parent(); parent != nil && parent.Descriptor().FullName() == "envoy.extensions.transport_sockets.quic.v3.QuicDownstreamTransport" {
		c.envoyf(t.at("custom_tls_certificate_selector"), src, "Does not support QUIC listeners.")
		return
	}
	if !d.GetDisableStatelessSessionResumption() || !d.GetDisableStatefulSessionResumption() {
		c.envoyf(t.at("custom_tls_certificate_selector"), src, "On demand certificates are not integrated with session resumption "+
			"support. (set disable_stateless_session_resumption and disable_stateful_session_resumption)")
	}
}

// staticSecret returns the index and the static secret of that kind and name, or nil.
func (c *Context) staticSecret(kind, name string) (int, *tlsv3.Secret) {
	for i, s := range c.bootstrap().GetStaticResources().GetSecrets() {
		if s.GetName() == name && secretKind(s) == kind {
			return i, s
		}
	}
	return -1, nil
}
