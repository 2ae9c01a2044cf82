package loadtime

import (
	"strings"

	awssigningv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/aws_request_signing/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// AWS filters: aws_request_signing builds its signer (and credential provider chain) and aws_lambda parses its
// function ARN when the filter, or the per-route config, is built.

const (
	awsSigningSource = "source/extensions/filters/http/aws_request_signing/config.cc"
	awsChainSource   = "source/extensions/common/aws/credential_provider_chains.cc"
	awsLambdaSource  = "source/extensions/filters/http/aws_lambda/config.cc"
	minARNParts      = 7 // arn:partition:service:region:account:resource-type:function
)

func init() {
	register("envoy.extensions.filters.http.aws_request_signing.v3.AwsRequestSigning", awsSigner)
}

// awsSigner: SigV4 signs for one region (a region set is SigV4A's), and a custom credential provider chain names a
// provider.
// Envoy: source/extensions/filters/http/aws_request_signing/config.cc:169 [http-filters-8d954dd0] — "SigV4 region
// string cannot contain wildcards or commas. Region sets can be specified when using signing_algorithm:
// AWS_SIGV4A."; source/extensions/common/aws/credential_provider_chains.cc:38 [http-filters-d5179bc5] — "Custom
// credential provider chain must have at least one credential provider".
func awsSigner(c *Context, m protoreflect.Message) {
	s, ok := m.Interface().(*awssigningv3.AwsRequestSigning)
	if !ok {
		return
	}
	if cp := s.GetCredentialProvider(); cp.GetCustomCredentialProviderChain() && !anyMessageSet(cp.ProtoReflect()) {
		c.envoyf(c.at("credential_provider"), awsChainSource, "Custom credential provider chain must have at least one credential provider")
	}
	if s.GetSigningAlgorithm() != awssigningv3.AwsRequestSigning_AWS_SIGV4A && strings.ContainsAny(s.GetRegion(), "*,") {
		c.envoyf(c.at("region"), awsSigningSource, "SigV4 region string cannot contain wildcards or commas. Region sets can "+
			"be specified when using signing_algorithm: AWS_SIGV4A.")
	}
}

// anyMessageSet reports whether a message has a message field set (a credential provider, of whichever kind the
// Envoy release knows).
func anyMessageSet(m protoreflect.Message) bool {
	set := false
	m.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		set = fd.Message() != nil
		return !set
	})
	return set
}
