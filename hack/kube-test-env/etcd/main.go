// Command etcd is etcd's server, built from go.etcd.io/etcd/server/v3 at the version pinned in ../go.mod.
// It is what etcd's own root module (go.etcd.io/etcd/v3, main.go) does: hand the arguments to etcdmain.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
