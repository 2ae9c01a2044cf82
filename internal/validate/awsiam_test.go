package validate

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"
)

const awsIamBootstrap = `
node: {id: node1, cluster: c1}
dynamic_resources:
  ads_config:
    api_type: GRPC
    grpc_services:
    - google_grpc:
        target_uri: appmesh-envoy-management.us-west-2.amazonaws.com:443
        stat_prefix: ads
        call_credentials:
        - from_plugin:
            name: envoy.grpc_credentials.aws_iam
            typed_config:
              "@type": type.googleapis.com/envoy.config.grpc_credential.v3.AwsIamConfig
              serviceName: appmesh
              region: us-west-2
  lds_config: {ads: {}}
`

func TestAwsIamConfig(t *testing.T) {
	if _, err := protoregistry.GlobalTypes.FindMessageByURL("type.googleapis.com/" + awsIamName); err != nil {
		t.Fatalf("not registered: %v", err)
	}
	b, err := Bootstrap([]byte(awsIamBootstrap))
	if err != nil {
		t.Fatal(err)
	}
	j, err := CanonicalJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(j), `"service_name": "appmesh"`) || !strings.Contains(string(j), `"region": "us-west-2"`) {
		t.Errorf("payload lost in CanonicalJSON:\n%s", j)
	}
	again, err := Bootstrap(j)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(b, again) {
		t.Error("CanonicalJSON round trip changed the bootstrap")
	}

	const at = "dynamic_resources.ads_config.grpc_services[0].google_grpc.call_credentials[0].from_plugin.typed_config"
	_, err = Bootstrap([]byte(strings.Replace(awsIamBootstrap, "region:", "regoin:", 1)))
	assertProblem(t, err, at+"<AwsIamConfig>.regoin", `unknown field "regoin" in envoy.config.grpc_credential.v3.AwsIamConfig`)
	_, err = Bootstrap([]byte(strings.Replace(awsIamBootstrap, "              serviceName: appmesh\n", "", 1)))
	assertProblem(t, err, at+"<AwsIamConfig>.service_name", "value length must be at least 1 runes")
	if _, err := Bootstrap([]byte(strings.Replace(awsIamBootstrap, "              region: us-west-2\n", "", 1))); err != nil {
		t.Errorf("region is optional: %v", err)
	}
	if err := registerAwsIam(); err != nil {
		t.Errorf("registering again must be a no-op: %v", err)
	}
}
