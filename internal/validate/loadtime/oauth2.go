//go:build !appnet_lean

package loadtime

import (
	"slices"

	oauth2v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/oauth2/v3"
	injectedoauth2v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/injected_credentials/oauth2/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// OAuth2: the filter (source/extensions/filters/http/oauth2) and the credential injector's client credentials
// flow (source/extensions/http/injected_credentials/oauth2), both built at load. A secret named without sds_config
// is looked up among the bootstrap's static generic secrets then.

const (
	oauth2ConfigSource   = "source/extensions/filters/http/oauth2/config.cc"
	oauth2FilterSource   = "source/extensions/filters/http/oauth2/filter.cc"
	oauth2InjectorSource = "source/extensions/http/injected_credentials/oauth2/config.cc"
	oidcScope            = "openid"
)

func init() {
	register("envoy.extensions.filters.http.oauth2.v3.OAuth2", oauth2Config)
	register("envoy.extensions.http.injected_credentials.oauth2.v3.OAuth2", oauth2InjectorSecret)
}

// secretMissing reports a secret Envoy does not find at load: no sds_config, and no static generic secret of its
// name.
func (c *Context) secretMissing(s *tlsv3.SdsSecretConfig) bool {
	return s.GetSdsConfig() == nil && !c.staticGenericSecret(s.GetName())
}

// oauth2Config: the client secret is set (unless the client authenticates otherwise) and, like the HMAC secret,
// found; a bearer token is forwarded or the Authorization header preserved, not both; the authorization endpoint
// is an absolute URL; logging out through an end session endpoint is OpenID Connect's.
// Envoy: source/extensions/filters/http/oauth2/config.cc:61, :78, :84, :88 [http-filters-2f5c1b08]
// [http-filters-4914ce3a] [http-filters-0ac6fcf7] [http-filters-886dfe34] — "token_secret is required when
// auth_type is not TLS_CLIENT_AUTH", "invalid token secret configuration", "invalid HMAC secret configuration",
// "invalid combination of forward_bearer_token and preserve_authorization_header configuration. ..."; filter.cc:525,
// :538 [http-filters-2a2ebb39] [http-filters-92c50d78] — "OAuth2 filter: invalid authorization endpoint URL '<u>' in
// config.", "OAuth2 filter: end session endpoint is only supported for OpenID Connect.".
func oauth2Config(c *Context, m protoreflect.Message) {
	o, ok := m.Interface().(*oauth2v3.OAuth2)
	if !ok || o.GetConfig() == nil {
		return
	}
	cfg := o.GetConfig()
	creds := cfg.GetCredentials()
	// The client secret authenticates the client in the two original auth types; newer types (a client certificate,
	// a signed JWT) use it differently or not at all.
	clientSecret := cfg.GetAuthType() == oauth2v3.OAuth2Config_URL_ENCODED_BODY || cfg.GetAuthType() == oauth2v3.OAuth2Config_BASIC_AUTH
	switch {
	case clientSecret && creds.GetTokenSecret() == nil:
		c.envoyf(c.at("config.credentials.token_secret"), oauth2ConfigSource, "token_secret is required when auth_type is not TLS_CLIENT_AUTH")
	case clientSecret && c.secretMissing(creds.GetTokenSecret()):
		c.envoyf(c.at("config.credentials.token_secret.name"), oauth2ConfigSource, "invalid token secret configuration: "+
			"no static generic secret '%s' in static_resources.secrets (or set sds_config)", creds.GetTokenSecret().GetName())
	}
	if creds.GetHmacSecret() != nil && c.secretMissing(creds.GetHmacSecret()) {
		c.envoyf(c.at("config.credentials.hmac_secret.name"), oauth2ConfigSource, "invalid HMAC secret configuration: "+
			"no static generic secret '%s' in static_resources.secrets (or set sds_config)", creds.GetHmacSecret().GetName())
	}
	if cfg.GetPreserveAuthorizationHeader() && cfg.GetForwardBearerToken() {
		c.envoyf(c.at("config.preserve_authorization_header"), oauth2ConfigSource, "invalid combination of "+
			"forward_bearer_token and preserve_authorization_header configuration. If forward_bearer_token is set to true, "+
			"then preserve_authorization_header must be false")
	}
	if problem := absoluteURLProblem(cfg.GetAuthorizationEndpoint()); problem != "" {
		c.envoyf(c.at("config.authorization_endpoint"), oauth2FilterSource,
			"OAuth2 filter: invalid authorization endpoint URL '%s' in config. (%s)", cfg.GetAuthorizationEndpoint(), problem)
	}
	if cfg.GetEndSessionEndpoint() != "" && !slices.Contains(cfg.GetAuthScopes(), oidcScope) {
		c.envoyf(c.at("config.end_session_endpoint"), oauth2FilterSource,
			"OAuth2 filter: end session endpoint is only supported for OpenID Connect. (add \"openid\" to auth_scopes)")
	}
}

// oauth2InjectorSecret: the client credentials flow finds its client secret.
// Envoy: source/extensions/http/injected_credentials/oauth2/config.cc:53 [http-filters-20997dc6] — "Invalid oauth2
// client secret configuration".
func oauth2InjectorSecret(c *Context, m protoreflect.Message) {
	o, ok := m.Interface().(*injectedoauth2v3.OAuth2)
	if !ok || o.GetClientCredentials() == nil {
		return
	}
	if s := o.GetClientCredentials().GetClientSecret(); s != nil && c.secretMissing(s) {
		c.envoyf(c.at("client_credentials.client_secret.name"), oauth2InjectorSource, "Invalid oauth2 client secret "+
			"configuration: no static generic secret '%s' in static_resources.secrets (or set sds_config)", s.GetName())
	}
}
