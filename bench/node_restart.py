"""Start-up and verify times of two powchain builds on one store, alternating.

Usage: python3 bench/node_restart.py BEFORE_BINARY AFTER_BINARY DATA_DIR RUNS

Each restart starts `powchain node --network regtest --data-dir DATA_DIR` on
free loopback ports and times it until GET /status answers with a height;
then RUNS/2 runs of `powchain verify` per build. Prints each time and the
medians. The store must be a regtest one and not in use.
"""
import subprocess, time, urllib.request, json, sys, socket, statistics
def free_port():
    s=socket.socket(); s.bind(('127.0.0.1',0)); p=s.getsockname()[1]; s.close(); return p
def restart(binary, data):
    hp, pp = free_port(), free_port()
    t0=time.monotonic()
    p=subprocess.Popen([binary,'node','--network','regtest','--data-dir',data,'--http-port',str(hp),'--p2p-port',str(pp),'--p2p-bind','127.0.0.1','--log-level','warn'],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL)
    while True:
        try:
            st=json.load(urllib.request.urlopen(f'http://127.0.0.1:{hp}/status',timeout=1))
            if st.get('height',0)>0: break
        except Exception: pass
        time.sleep(0.002)
    t=time.monotonic()-t0
    p.terminate(); p.wait()
    return t
def verify(binary, data):
    t0=time.monotonic()
    r=subprocess.run([binary,'verify','--data-dir',data],capture_output=True,text=True)
    return time.monotonic()-t0, r.stdout.strip()[-80:]
bins={'before':sys.argv[1],'after':sys.argv[2]}; data=sys.argv[3]; runs=int(sys.argv[4])
res={k:{'restart':[], 'verify':[]} for k in bins}
for i in range(runs):
    for k,b in bins.items():
        res[k]['restart'].append(restart(b,data))
for i in range(max(1,runs//2)):
    for k,b in bins.items():
        t,out=verify(b,data); res[k]['verify'].append(t); print(k,'verify',round(t,2),out,flush=True)
for k in bins:
    print(k, 'restart', [round(x,3) for x in res[k]['restart']], 'median', round(statistics.median(res[k]['restart']),3), 'verify median', round(statistics.median(res[k]['verify']),2))
