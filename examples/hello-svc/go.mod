module example.com/hello-svc

go 1.22
