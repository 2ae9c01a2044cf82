package golden
import ("os";"strings";"testing";"github.com/appnet/appnet-agent/internal/validate")
func TestZZ(t *testing.T){
	data,_ := os.ReadFile("../../golden/g21-relay-client-full-ecs.json")
	want, err := validate.Decode(data); if err!=nil {t.Fatal(err)}
	s := string(data)
	s = strings.Replace(s, `"us-west-2d"`, `"us-west-2a"`, 1)
	s = strings.Replace(s, `"port_value": 9901`, `"port_value": 9911`, 1)
	s = strings.Replace(s, `"local_cluster"`, `"local_clusterX"`, 1)
	got, err := validate.Decode([]byte(s)); if err!=nil {t.Fatal(err)}
	m, err := Compare(want, got, "a", "b"); if err!=nil {t.Fatal(err)}
	t.Log(m)
}
