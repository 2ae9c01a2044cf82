package loadtime_test

import (
	"strings"
	"testing"
)

func TestAuthRules(t *testing.T) { runRules(t, casesAuthRules()) }

func casesAuthRules() []ruleCase {
	httpService := func(fields string) string {
		return "http_service: {server_uri: {uri: 'http://authz', cluster: app, timeout: 1s}" + withComma(fields) + "}"
	}
	jwt := func(fields string) string {
		return "providers: {p1: {issuer: i, remote_jwks: {http_uri: {uri: 'https://idp.example/jwks1', cluster: app, timeout: 1s}}}, p2: {issuer: j, remote_jwks: {http_uri: {uri: 'https://idp.example/jwks', cluster: app, timeout: 1s}}}}" + withComma(fields)
	}
	const secrets = "static_resources:\n  secrets:\n  - {name: token, generic_secret: {secret: {inline_string: t}}}\n  - {name: hmac, generic_secret: {secret: {inline_string: h}}}\n"
	oauth := func(fields string) string {
		return "config: {token_endpoint: {uri: 'https://idp/token', cluster: app, timeout: 1s}, authorization_endpoint: 'https://idp/authorize', " +
			"redirect_uri: 'https://%REQ(:authority)%/callback', redirect_path_matcher: {path: {exact: /callback}}, signout_path: {path: {exact: /signout}}, " +
			"credentials: {client_id: c, token_secret: {name: token}, hmac_secret: {name: hmac}}" + withComma(fields) + "}"
	}
	withSecrets := func(b string) string { return secrets + strings.TrimPrefix(b, "static_resources:\n") }
	return []ruleCase{
		{"ext authz http service", httpFilter(extAuthz, httpService("path_prefix: /authz")), "", ""},
		{"ext authz path prefix without slash", httpFilter(extAuthz, httpService("path_prefix: authz")),
			filterAt(extAuthz) + ".http_service.path_prefix", "path_prefix should start with \"/\"."},
		{"ext authz path override without slash", httpFilter(extAuthz, httpService("path_override: check")),
			filterAt(extAuthz) + ".http_service.path_override", "path_override should start with \"/\"."},
		{"ext authz path prefix and override", httpFilter(extAuthz, httpService("path_prefix: /a, path_override: /check")),
			filterAt(extAuthz) + ".http_service.path_override", "Only one of path_prefix or path_override may be set, not both."},
		{"ext authz allowed headers twice", httpFilter(extAuthz, httpService("authorization_request: {allowed_headers: {patterns: [{exact: x-a}]}}")+", allowed_headers: {patterns: [{exact: x-b}]}"),
			filterAt(extAuthz) + ".http_service.authorization_request.allowed_headers", "Invalid duplicate configuration for allowed_headers."},
		{"ext authz per route body buffering", perRoute(extAuthzRoute, "check_settings: {disable_request_body_buffering: true}"), "", ""},
		{"ext authz per route body buffering and body", perRoute(extAuthzRoute, "check_settings: {disable_request_body_buffering: true, with_request_body: {max_request_bytes: 10}}"),
			perRouteAt(extAuthzRoute) + ".check_settings.with_request_body", "Only one of disable_request_body_buffering or with_request_body can be set."},
		{"jwt authn", httpFilter(jwtAuthn, jwt("rules: [{match: {prefix: /}, requires: {requires_any: {requirements: [{provider_name: p1}, {provider_and_audiences: {provider_name: p2, audiences: [a]}}]}}}, {match: {prefix: /b}, requirement_name: r}], requirement_map: {r: {provider_name: p1}}")), "", ""},
		{"jwt authn remote jwks without scheme", httpFilter(jwtAuthn, "providers: {p: {issuer: i, remote_jwks: {http_uri: {uri: 'idp.example/jwks', cluster: app, timeout: 1s}}}}"),
			filterAt(jwtAuthn) + ".providers[\"p\"].remote_jwks.http_uri.uri", "Provider 'p' has an invalid URI: 'idp.example/jwks'"},
		{"jwt authn unknown requirement name", httpFilter(jwtAuthn, jwt("rules: [{match: {prefix: /}, requirement_name: s}], requirement_map: {r: {provider_name: p1}, q: {allow_missing: {}}}")),
			filterAt(jwtAuthn) + ".rules[0].requirement_name", "Wrong requirement_name: s. It should be one of [q,r]"},
		{"jwt authn unknown provider", httpFilter(jwtAuthn, jwt("rules: [{match: {prefix: /}, requires: {requires_all: {requirements: [{provider_name: p1}, {provider_and_audiences: {provider_name: p3}}]}}}]")),
			filterAt(jwtAuthn) + ".rules[0].requires.requires_all.requirements[1].provider_and_audiences.provider_name", "Required provider ['p3'] is not configured."},
		{"oauth2", withSecrets(httpFilter(oauth2, oauth("end_session_endpoint: 'https://idp/logout', auth_scopes: [openid, email]"))), "", ""},
		{"oauth2 client certificate without token secret", withSecrets(httpFilter(oauth2, strings.Replace(oauth("auth_type: TLS_CLIENT_AUTH"), "token_secret: {name: token}, ", "", 1))), "", ""},
		{"oauth2 secrets from sds", httpFilter(oauth2, strings.NewReplacer("{name: token}", "{name: t, sds_config: {api_config_source: {api_type: GRPC, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: app}}]}}}", "{name: hmac}", "{name: h, sds_config: {api_config_source: {api_type: GRPC, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: app}}]}}}").Replace(oauth(""))), "", ""},
		{"oauth2 without token secret", withSecrets(httpFilter(oauth2, strings.Replace(oauth(""), "token_secret: {name: token}, ", "", 1))),
			filterAt(oauth2) + ".config.credentials.token_secret", "token_secret is required when auth_type is not TLS_CLIENT_AUTH"},
		{"oauth2 token secret not found", httpFilter(oauth2, oauth("")),
			filterAt(oauth2) + ".config.credentials.token_secret.name", "invalid token secret configuration"},
		{"oauth2 hmac secret not found", withSecrets(httpFilter(oauth2, strings.Replace(oauth(""), "{name: hmac}", "{name: other}", 1))),
			filterAt(oauth2) + ".config.credentials.hmac_secret.name", "invalid HMAC secret configuration"},
		{"oauth2 bearer token and authorization header", withSecrets(httpFilter(oauth2, oauth("forward_bearer_token: true, preserve_authorization_header: true"))),
			filterAt(oauth2) + ".config.preserve_authorization_header", "invalid combination of forward_bearer_token and preserve_authorization_header configuration."},
		{"oauth2 relative authorization endpoint", withSecrets(httpFilter(oauth2, strings.Replace(oauth(""), "'https://idp/authorize'", "/authorize", 1))),
			filterAt(oauth2) + ".config.authorization_endpoint", "OAuth2 filter: invalid authorization endpoint URL '/authorize' in config."},
		{"oauth2 end session without openid", withSecrets(httpFilter(oauth2, oauth("end_session_endpoint: 'https://idp/logout', auth_scopes: [email]"))),
			filterAt(oauth2) + ".config.end_session_endpoint", "OAuth2 filter: end session endpoint is only supported for OpenID Connect."},
		{"credential injector oauth2", withSecrets(httpFilter(injector, "credential: {name: o, typed_config: {'@type': type.googleapis.com/envoy.extensions.http.injected_credentials.oauth2.v3.OAuth2, token_endpoint: {uri: 'https://idp/token', cluster: app, timeout: 1s}, client_credentials: {client_id: c, client_secret: {name: token}}}}")), "", ""},
		{"credential injector oauth2 secret from a file (Envoy's docs)", httpFilter(injector, "credential: {name: o, typed_config: {'@type': type.googleapis.com/envoy.extensions.http.injected_credentials.oauth2.v3.OAuth2, token_endpoint: {uri: 'https://idp/token', cluster: app, timeout: 3s}, client_credentials: {client_id: c, client_secret: {name: client-secret, sds_config: {resource_api_version: V3, path_config_source: {path: /etc/envoy/client-secret-sds.yaml}}}}}}"), "", ""},
		{"credential injector oauth2 secret not found", httpFilter(injector, "credential: {name: o, typed_config: {'@type': type.googleapis.com/envoy.extensions.http.injected_credentials.oauth2.v3.OAuth2, token_endpoint: {uri: 'https://idp/token', cluster: app, timeout: 1s}, client_credentials: {client_id: c, client_secret: {name: token}}}}"),
			filterAt(injector) + ".credential.typed_config<OAuth2>.client_credentials.client_secret.name", "Invalid oauth2 client secret configuration"},
		{"aws request signing", httpFilter(awsSigning, "service_name: s3, region: us-east-1, credential_provider: {custom_credential_provider_chain: true, environment_credential_provider: {}}"), "", ""},
		{"aws request signing sigv4a region set", httpFilter(awsSigning, "service_name: s3, region: 'us-east-1,us-west-2', signing_algorithm: AWS_SIGV4A"), "", ""},
		{"aws request signing empty custom chain", httpFilter(awsSigning, "service_name: s3, region: us-east-1, credential_provider: {custom_credential_provider_chain: true}"),
			filterAt(awsSigning) + ".credential_provider", "Custom credential provider chain must have at least one credential provider"},
		{"aws request signing sigv4 region set", httpFilter(awsSigning, "service_name: s3, region: 'us-*'"),
			filterAt(awsSigning) + ".region", "SigV4 region string cannot contain wildcards or commas."},
		{"aws lambda", httpFilter(awsLambda, "arn: 'arn:aws:lambda:us-west-2:123456789012:function:f:v1'"), "", ""},
		{"aws lambda short arn", httpFilter(awsLambda, "arn: 'arn:aws:lambda:us-west-2:123456789012:f'"),
			filterAt(awsLambda) + ".arn", "aws_lambda_filter: Invalid ARN: arn:aws:lambda:us-west-2:123456789012:f"},
		{"aws lambda per route arn", perRoute(awsLambdaPer, "invoke_config: {arn: 'lambda:aws:lambda:us-west-2:123456789012:function:f'}"),
			perRouteAt(awsLambdaPer) + ".invoke_config.arn", "aws_lambda_filter: Invalid ARN: "},
	}
}

func init() { registerCases(casesAuthRules) }

func TestJWKSRules(t *testing.T) { runRules(t, casesJWKSRules()) }

func casesJWKSRules() []ruleCase {
	jwks := func(set string) string {
		return httpFilter(jwtAuthn, "providers: {p: {issuer: i, local_jwks: {inline_string: '"+set+"'}}}")
	}
	const at = ".providers[\"p\"].local_jwks.inline_string"
	const rsa = `{"kty": "RSA", "alg": "RS256", "kid": "k", "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw", "e": "AQAB"}`
	return []ruleCase{
		{"jwks", jwks(`{"keys": [{"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}, ` + rsa + `]}`), "", ""},
		{"jwks one usable key among bad ones", jwks(`{"keys": [{"kty": "RSA", "n": "a"}, ` + rsa + `, 3]}`), "", ""},
		{"jwks hmac", jwks(`{"keys": [{"kty": "oct", "alg": "HS256", "k": "c2VjcmV0"}]}`), "", ""},
		{"jwks x509 map", jwks(`{"k": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}`), "", ""},
		{"jwks not json", jwks(`{"keys": [`),
			filterAt(jwtAuthn) + at, "Provider 'p' in jwt_authn config has invalid local jwks: Jwks is an invalid JSON"},
		{"jwks without keys", jwks(`{"key": [` + rsa + `]}`),
			filterAt(jwtAuthn) + at, "Provider 'p' in jwt_authn config has invalid local jwks: Jwks does not have [keys] field"},
		{"jwks keys not a list", jwks(`{"keys": ` + rsa + `}`),
			filterAt(jwtAuthn) + at, "invalid local jwks: [keys] in Jwks is not an array"},
		{"jwks empty", jwks(`{"keys": []}`),
			filterAt(jwtAuthn) + at, "invalid local jwks: Jwks doesn't have any valid public key"},
		{"jwks rsa without exponent", jwks(`{"keys": [{"kty": "RSA", "n": "AQAB"}]}`),
			filterAt(jwtAuthn) + at, "invalid local jwks: [e] field is missing for a RSA key"},
		{"jwks rsa odd exponent", jwks(`{"keys": [{"kty": "RSA", "n": "AQAB", "e": "Aw8"}]}`),
			filterAt(jwtAuthn) + at, "invalid local jwks: Jwks RSA [n] or [e] field is missing or has a parse error"},
		{"jwks unknown key type", jwks(`{"keys": [{"kty": "DSA"}]}`),
			filterAt(jwtAuthn) + at, "invalid local jwks: [kty] is not supported in [keys]"},
	}
}

func init() { registerCases(casesJWKSRules) }

func casesJWKSLegacyJSON() []ruleCase {
	return []ruleCase{
		{"jwks legacy json", httpFilter(jwtAuthn, "providers: {p: {issuer: i, local_jwks: {inline_string: \"{'keys': [{'kty': 'oct', 'k': 'c2VjcmV0'}]}\"}}}"), "", ""},
		{"jwks multi-line value", httpFilter(jwtAuthn, "providers: {p: {issuer: i, local_jwks: {inline_string: \"{\\\"keys\\\": [{\\\"kty\\\": \\\"RSA\\\", \\\"e\\\": \\\"AQAB\\\", \\\"n\\\": \\\"0vx7ago\\n  ebGcQ\\\"}]}\"}}}"), "", ""},
	}
}

func TestJWKSLegacyJSON(t *testing.T) { runRules(t, casesJWKSLegacyJSON()) }

func init() { registerCases(casesJWKSLegacyJSON) }
