//go:build !appnet_lean

package loadtime

import (
	"strings"

	awslambdav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/aws_lambda/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

func init() {
	register("envoy.extensions.filters.http.aws_lambda.v3.Config", awsLambdaARN)
}

// awsLambdaARN: the function is named by its ARN.
// Envoy: source/extensions/filters/http/aws_lambda/config.cc:66, :107 [http-filters-34d01c25]
// [http-filters-7775f41d] — "aws_lambda_filter: Invalid ARN: <arn>".
func awsLambdaARN(c *Context, m protoreflect.Message) {
	l, ok := m.Interface().(*awslambdav3.Config)
	if !ok {
		return
	}
	if parts := strings.Split(l.GetArn(), ":"); len(parts) < minARNParts || parts[0] != "arn" {
		c.envoyf(c.at("arn"), awsLambdaSource, "aws_lambda_filter: Invalid ARN: %s (arn:<partition>:lambda:<region>:<account>:function:<name>)", l.GetArn())
	}
}
