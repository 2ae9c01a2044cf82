package render

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// regionNeedsFIPS reports the partitions where only FIPS builds of Envoy may connect.
func regionNeedsFIPS(region string) bool {
	return strings.HasPrefix(region, "us-gov-") || strings.HasPrefix(region, "us-iso")
}

func fipsError(version, region string) error {
	return fmt.Errorf("envoy version: %s is not FIPS compatible for region %s", version, region)
}

// appMeshEndpoint derives the regional App Mesh endpoint, as the reference agent does.
func appMeshEndpoint(region string, preview, dualStack, fips bool, version string) (string, error) {
	if regionNeedsFIPS(region) && !fips {
		return "", fipsError(version, region)
	}
	useFIPS := fips && !strings.HasPrefix(region, "us-gov-") // GovCloud endpoints carry no -fips suffix
	host := "appmesh-"
	if preview {
		host += "preview-"
	}
	host += "envoy-management"
	if useFIPS {
		host += "-fips"
	}
	return fmt.Sprintf("%s.%s.%s:443", host, region, domainSuffix(region, dualStack)), nil
}

// relayDomain derives the Service Connect management domain; it is always dual-stack, and adds
// -fips for FIPS builds in every partition, as the reference agent does.
func relayDomain(region string, fips bool, version string) (string, error) {
	if regionNeedsFIPS(region) && !fips {
		return "", fmt.Errorf("failed to verify FIPS compatibility: %w", fipsError(version, region))
	}
	name := "ecs-sc"
	if fips {
		name += "-fips"
	}
	return fmt.Sprintf("%s.%s.%s", name, region, domainSuffix(region, true)), nil
}

func domainSuffix(region string, dualStack bool) string {
	cn := strings.HasPrefix(region, "cn-")
	switch {
	case dualStack && cn:
		return "api.amazonwebservices.com.cn"
	case dualStack:
		return "api.aws"
	case cn:
		return "amazonaws.com.cn"
	}
	return "amazonaws.com"
}

// relayCurve picks the TLS curve the Service Connect endpoints of a partition require.
func relayCurve(region string) string {
	if strings.HasPrefix(region, "us-isof-") || strings.HasPrefix(region, "eu-isoe-") {
		return "P-384"
	}
	return "P-256"
}

var envoyVersionPattern = regexp.MustCompile(`/(\d+)\.(\d+)\.\d+/`)

// envoyMinor extracts major.minor from `envoy --version` output ("…/1.29.0/Clean/…").
func envoyMinor(version string) (major, minor int, ok bool) {
	m := envoyVersionPattern.FindStringSubmatch(version)
	if m == nil {
		return 0, 0, false
	}
	major, _ = strconv.Atoi(m[1])
	minor, _ = strconv.Atoi(m[2])
	return major, minor, true
}
