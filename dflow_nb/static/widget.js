var P=`.dfw {
  font-family: var(--jp-ui-font-family, system-ui, -apple-system, "Segoe UI", sans-serif);
  font-size: 12px;
  color: var(--jp-ui-font-color1, #1f2328);
  background: var(--jp-layout-color1, #fff);
  border: 1px solid var(--jp-border-color2, #d0d7de);
  border-radius: 6px;
  overflow: hidden;
  max-width: 100%;
}
.dfw [hidden] { display: none !important; }
.dfw-p-Pending { --c: #8c959f; }
.dfw-p-Running { --c: #1f77d0; }
.dfw-p-Succeeded { --c: #2da44e; }
.dfw-p-Failed { --c: #d1242f; }
.dfw-p-Error { --c: #82071e; }
.dfw-p-Skipped, .dfw-p-Omitted { --c: #b8c0c8; }

.dfw-head {
  display: flex; align-items: center; gap: 8px; padding: 6px 10px;
  border-bottom: 1px solid var(--jp-border-color2, #d0d7de);
}
.dfw-name { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; max-width: 40%; }
.dfw-phase { color: var(--c); font-weight: 600; }
.dfw-prog, .dfw-dur { color: var(--jp-ui-font-color2, #57606a); font-variant-numeric: tabular-nums; }
.dfw-bar {
  flex: 0 1 180px; min-width: 60px; height: 6px; border-radius: 3px; overflow: hidden;
  background: rgba(128, 128, 128, 0.2);
}
.dfw-bar > div { height: 100%; width: 0; background: var(--c); transition: width 0.3s; }
.dfw-wmsg { padding: 4px 10px; color: #d1242f; white-space: pre-wrap; border-bottom: 1px solid var(--jp-border-color2, #d0d7de); }
.dfw-ic {
  display: inline-flex; align-items: center; justify-content: center; flex: none;
  width: 16px; height: 16px; border-radius: 50%; background: var(--c); color: #fff;
  font-size: 10px; font-weight: 700; line-height: 1;
}

.dfw-body { display: flex; flex-wrap: wrap; align-items: stretch; }
.dfw-graph { flex: 1 1 320px; min-width: 0; max-height: 560px; overflow: auto; padding: 4px; }
.dfw-svg { display: block; max-width: 100%; height: auto; color: var(--jp-ui-font-color1, #1f2328); }
.dfw-none { color: var(--jp-ui-font-color2, #57606a); font-style: italic; padding: 4px 0; }

.dfw-node { cursor: pointer; outline: none; }
.dfw-node text { font-family: inherit; pointer-events: none; }
.dfw-under { fill: var(--jp-layout-color1, #fff); }
.dfw-box { fill: var(--c); fill-opacity: 0.12; stroke: var(--c); stroke-width: 1.5; }
.dfw-stack { fill: var(--jp-layout-color1, #fff); stroke: var(--c); stroke-opacity: 0.55; }
.dfw-node:hover .dfw-box { fill-opacity: 0.24; }
.dfw-node:focus-visible .dfw-box { stroke-dasharray: 4 2; }
.dfw-sel .dfw-box { stroke-width: 3; fill-opacity: 0.22; }
.dfw-k-skipped .dfw-box { stroke-dasharray: 4 3; }
.dfw-k-steps .dfw-box, .dfw-k-dag .dfw-box { stroke-width: 2.2; }
.dfw-p-Running .dfw-box { animation: dfw-pulse 1.4s ease-in-out infinite; }
@keyframes dfw-pulse { 50% { stroke-opacity: 0.35; } }
.dfw-node circle { fill: var(--c); }
.dfw-i { fill: #fff; font-size: 10px; font-weight: 700; text-anchor: middle; dominant-baseline: central; }
.dfw-p-Skipped .dfw-i, .dfw-p-Omitted .dfw-i { fill: #3d444d; }
.dfw-l { font-size: 11px; font-weight: 600; fill: currentColor; }
.dfw-s { font-size: 9.5px; fill: currentColor; opacity: 0.75; }
.dfw-b { font-size: 9.5px; font-weight: 600; fill: var(--c); text-anchor: end; }
.dfw-bg { fill: rgba(128, 128, 128, 0.22); }
.dfw-f, .dfw-seg { fill: var(--c); }
.dfw-edge { fill: none; stroke: var(--jp-ui-font-color2, #8c959f); stroke-width: 1.3; }
.dfw-arrow { fill: var(--jp-ui-font-color2, #8c959f); }

.dfw-panel {
  flex: 1 1 300px; max-width: 100%; max-height: 560px; overflow: auto; padding: 8px 10px;
  border-left: 1px solid var(--jp-border-color2, #d0d7de); box-sizing: border-box;
}
.dfw-ph { display: flex; align-items: center; gap: 6px; margin-bottom: 6px; }
.dfw-ph b { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.dfw-x {
  margin-left: auto; border: none; background: none; cursor: pointer; font-size: 16px;
  color: var(--jp-ui-font-color2, #57606a); line-height: 1;
}
.dfw-sum, .dfw-meta { color: var(--jp-ui-font-color2, #57606a); margin: 2px 0 4px; }
.dfw-row { display: flex; align-items: center; gap: 6px; padding: 2px 4px; border-radius: 4px; cursor: pointer; }
.dfw-row:hover { background: rgba(128, 128, 128, 0.12); }
.dfw-rn { flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.dfw-rd { color: var(--jp-ui-font-color2, #57606a); font-variant-numeric: tabular-nums; }
.dfw-item > .dfw-det { margin: 2px 0 6px 22px; }
.dfw-msg { color: var(--c); white-space: pre-wrap; margin: 4px 0; }
.dfw-sec { font-weight: 600; margin: 6px 0 2px; font-size: 11px; text-transform: uppercase; letter-spacing: 0.04em; color: var(--jp-ui-font-color2, #57606a); }
.dfw-kv { border-collapse: collapse; width: 100%; table-layout: fixed; }
.dfw-kv th, .dfw-kv td { text-align: left; vertical-align: top; padding: 1px 4px; font-size: 11px; }
.dfw-kv th { width: 30%; font-weight: 600; overflow: hidden; text-overflow: ellipsis; }
.dfw-kv td { font-family: var(--jp-code-font-family, monospace); word-break: break-all; }
.dfw-log {
  margin: 0; max-height: 200px; overflow: auto; padding: 4px 6px; border-radius: 4px;
  font: 11px/1.35 var(--jp-code-font-family, monospace); white-space: pre-wrap; word-break: break-all;
  background: rgba(128, 128, 128, 0.1);
}
.dfw-more {
  margin: 6px 0; padding: 2px 8px; cursor: pointer; border-radius: 4px;
  border: 1px solid var(--jp-border-color2, #d0d7de); background: var(--jp-layout-color2, #f6f8fa);
  color: inherit;
}
`;var k={Pending:"\u25CB",Running:"\u25D0",Succeeded:"\u2713",Failed:"\u2717",Error:"!",Skipped:"\u21B7",Omitted:"\u2205"},N=["Succeeded","Running","Failed","Error","Pending","Skipped","Omitted"];var M=200,H=1e3,G="http://www.w3.org/2000/svg",D="dflow-nb-widget-style",v=i=>i&&k[i]?i:"Pending";function a(i,t,...s){let e=document.createElement(i);for(let o in t||{})o==="text"?e.textContent=t[o]:o.startsWith("on")?e.addEventListener(o.slice(2),t[o]):e.setAttribute(o,t[o]);for(let o of s)o!=null&&e.append(o);return e}function p(i,t,s){let e=document.createElementNS(G,i);for(let o in t||{})e.setAttribute(o,t[o]);return s&&s.appendChild(e),e}function _(){if(document.getElementById(D))return;let i=document.createElement("style");i.id=D,i.textContent=P,document.head.appendChild(i)}function I(i,t){let s=/^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(i||"");return s&&+s[2]>0?Math.min(1,+s[1]/+s[2]):t==="Succeeded"?1:0}function S(i,t){if(!(i>=0)||!isFinite(i))return"";if(t&&i<1)return"<1s";if(i<10)return t?Math.round(i)+"s":i.toFixed(1)+"s";if(i<60)return Math.round(i)+"s";let s=Math.floor(i/60);return s<60?s+"m "+String(Math.floor(i%60)).padStart(2,"0")+"s":Math.floor(s/60)+"h "+String(s%60).padStart(2,"0")+"m"}function C(i){if(!i||!i.startedAt)return"";let t=Date.parse(i.startedAt);if(isNaN(t))return"";let s=e=>!/\.\d/.test(e);if(i.finishedAt){let e=s(i.startedAt)&&s(i.finishedAt);return S((Date.parse(i.finishedAt)-t)/1e3,e)}return i.phase==="Running"?S((Date.now()-t)/1e3,s(i.startedAt)):""}function y(i,t){return i=String(i??""),i.length>t?i.slice(0,Math.max(1,t-1))+"\u2026":i}function A(i){let t=i&&i.counts||{},s=[];for(let e of N)t[e]&&s.push(k[e]+t[e]);return s.join(" ")}function O(i,t,s){let[e,o]=i,[d,n]=t,h=s.w/2,l=s.h/2;if(Math.abs(d-s.x)>h||Math.abs(n-s.y)>l)return t;let r=e-s.x,f=o-s.y;if(r===0&&f===0)return t;let w=Math.min(r?h/Math.abs(r):1/0,f?l/Math.abs(f):1/0);return w>=1?t:[s.x+r*w,s.y+f*w]}function W(i,t,s){let e=(i||[]).map(h=>[+h[0],+h[1]]);if(e.length<2){if(!t||!s)return"";e=[[t.x,t.y],[s.x,s.y]]}let o=e.length;t&&(e[0]=O(e[1],e[0],t)),s&&(e[o-1]=O(e[o-2],e[o-1],s));let d=h=>h[0].toFixed(1)+" "+h[1].toFixed(1),n="M"+d(e[0]);for(let h=1;h<o-1;h++){let[l,r,f]=[e[h-1],e[h],e[h+1]],w=Math.min(8,Math.hypot(r[0]-l[0],r[1]-l[1])/2,Math.hypot(f[0]-r[0],f[1]-r[1])/2),c=(u,m)=>[r[0]+(u[0]-r[0])*m,r[1]+(u[1]-r[1])*m],g=Math.hypot(r[0]-l[0],r[1]-l[1])||1,x=Math.hypot(f[0]-r[0],f[1]-r[1])||1;n+="L"+d(c(l,w/g))+"Q"+d(r)+" "+d(c(f,w/x))}return n+"L"+d(e[o-1])}function z(i){if(i==null)return"";if(typeof i=="string")return i;try{return JSON.stringify(i)}catch{return String(i)}}function B(i){let t=[],s=(n,h)=>t.push(a("tr",{},a("th",{text:n}),a("td",{text:y(z(h),400),title:y(z(h),4e3)}))),e=i||{},o=Object.keys(e);if(o.length&&o.every(n=>(n==="parameters"||n==="artifacts")&&e[n]&&typeof e[n]=="object")){for(let n in e.parameters||{})s(n,e.parameters[n]);for(let n in e.artifacts||{})s(n+" \u29C9",e.artifacts[n])}else for(let n of o)s(n,e[n]);return t.length?a("table",{class:"dfw-kv"},...t):a("div",{class:"dfw-none",text:"none"})}var E=class{constructor(t,s){this.model=t,this.el=s,this.nodes=new Map,this.running=new Set,this.sel=null,this.details=null,this.cache=new Map,this.openRows=new Set,this.shown=M,this.lastAsk=0,this.askTimer=null,this.deltas=0,this.deltaBytes=0,this.build(),this.states={...t.get("states")||{}},this.workflow={...t.get("workflow")||{}};let e=performance.now();this.drawGraph(),this.updateHead(),this.el.dataset.renderMs=(performance.now()-e).toFixed(1),this.handlers={"change:graph":()=>{this.drawGraph()},"change:states":()=>{this.states={...t.get("states")||{}};for(let o of this.nodes.keys())this.updateNode(o)},"change:workflow":()=>{this.workflow={...t.get("workflow")||{}},this.updateHead()},"msg:custom":o=>this.onMsg(o)};for(let o in this.handlers)t.on(o,this.handlers[o]);this.tick=setInterval(()=>this.onTick(),1e3),this.hideStatic()}hideStatic(){let t=this.model.get("static_id");if(!t||!/^[\w-]+$/.test(t))return;let s=document.createElement("style"),e=`[data-dflow-nb-static="${t}"]`;s.textContent=`.jp-OutputArea-child:has(${e}), .output_area:has(${e}), ${e} { display: none !important; }`,document.head.appendChild(s),this.staticStyle=s}dispose(){this.staticStyle&&this.staticStyle.remove(),clearInterval(this.tick),clearTimeout(this.askTimer);for(let t in this.handlers)this.model.off(t,this.handlers[t])}build(){this.hIcon=a("span",{class:"dfw-ic"}),this.hName=a("span",{class:"dfw-name"}),this.hPhase=a("span",{class:"dfw-phase"}),this.hFill=a("div"),this.hProg=a("span",{class:"dfw-prog"}),this.hDur=a("span",{class:"dfw-dur"}),this.hMsg=a("div",{class:"dfw-wmsg"}),this.head=a("div",{class:"dfw-head"},this.hIcon,this.hName,this.hPhase,a("div",{class:"dfw-bar"},this.hFill),this.hProg,this.hDur),this.graphBox=a("div",{class:"dfw-graph"}),this.panel=a("div",{class:"dfw-panel",hidden:""}),this.el.classList.add("dfw"),this.el.append(this.head,this.hMsg,a("div",{class:"dfw-body"},this.graphBox,this.panel))}drawGraph(){let t=this.model.get("graph")||{},s=t.nodes||[];if(this.nodes.clear(),this.running.clear(),this.graphBox.textContent="",!s.length){this.graphBox.append(a("div",{class:"dfw-none",text:"no steps yet"}));return}let e=+t.width||200,o=+t.height||100,d=8,n=p("svg",{class:"dfw-svg",width:e+2*d,height:o+2*d,viewBox:`${-d} ${-d} ${e+2*d} ${o+2*d}`,role:"img"});n.style.minWidth=Math.round((e+2*d)*.5)+"px";let h=p("defs",{},n),l=p("marker",{id:"dfw-arrow",viewBox:"0 0 10 10",refX:9,refY:5,markerWidth:7,markerHeight:7,orient:"auto-start-reverse"},h);p("path",{d:"M0 0L10 5L0 10z",class:"dfw-arrow"},l);let r={};for(let c of s)r[c.key]=c;let f=p("g",{class:"dfw-edges"},n);for(let c of t.edges||[]){let g=W(c.points,r[c.from],r[c.to]);g&&p("path",{d:g,class:"dfw-edge","marker-end":"url(#dfw-arrow)"},f)}let w=p("g",{class:"dfw-nodes"},n);for(let c of s)this.nodes.set(c.key,this.drawNode(c,w));this.graphBox.append(n);for(let c of this.nodes.keys())this.updateNode(c)}drawNode(t,s){let e=+t.w||120,o=+t.h||36,d=t.kind==="fanout",n=p("g",{class:"dfw-node dfw-k-"+(t.kind||"pod"),transform:`translate(${(+t.x-e/2).toFixed(1)},${(+t.y-o/2).toFixed(1)})`,tabindex:0,role:"button","data-key":t.key},s),h=p("title",{},n);d&&(p("rect",{class:"dfw-stack",x:5,y:5,width:e,height:o,rx:6},n),p("rect",{class:"dfw-stack",x:2.5,y:2.5,width:e,height:o,rx:6},n)),p("rect",{class:"dfw-under",width:e,height:o,rx:6},n);let l=p("rect",{class:"dfw-box",width:e,height:o,rx:6},n),r=o>=30,f=Math.round(r?o/2-3:o/2+3),w=r?f+3:o/2-1;p("circle",{cx:13,cy:w,r:8},n);let c=p("text",{class:"dfw-i",x:13,y:w},n),g=p("text",{class:"dfw-l",x:26,y:f},n),x=(e-30)/6.3;g.textContent=y(t.label||t.key,Math.floor(d?x-5:x));let u=p("text",{class:"dfw-s",x:26,y:f+12},n);r||u.setAttribute("display","none");let m=d?p("text",{class:"dfw-b",x:e-6,y:f},n):null,F=e-12,j=o-6;p("rect",{class:"dfw-bg",x:6,y:j,width:F,height:3,rx:1.5},n);let T={},$=null;if(d)for(let b of N)T[b]=p("rect",{class:"dfw-seg dfw-p-"+b,x:6,y:j,width:0,height:3},n);else $=p("rect",{class:"dfw-f",x:6,y:j,width:0,height:3,rx:1.5},n);let R=()=>this.select(t.key);return n.addEventListener("click",R),n.addEventListener("keydown",b=>{(b.key==="Enter"||b.key===" ")&&(b.preventDefault(),R())}),{g:n,box:l,ic:c,sub:u,bar:$,segs:T,badge:m,title:h,bw:F,spec:t,room:x}}updateNode(t){let s=this.nodes.get(t);if(!s)return;let e=this.states[t]||{},o=v(e.phase),d=s.spec.kind==="fanout";s.g.setAttribute("class",`dfw-node dfw-k-${s.spec.kind||"pod"} dfw-p-${o}`+(this.sel===t?" dfw-sel":"")),s.g.dataset.phase=o,s.ic.textContent=k[o],e.phase==="Running"&&e.startedAt&&!e.finishedAt?this.running.add(t):this.running.delete(t);let n=C(e);if(d){let l=+e.total||0,r=e.counts||{},f=6;for(let w of N){let c=l>0?(+r[w]||0)/l*s.bw:0;s.segs[w].setAttribute("x",f.toFixed(1)),s.segs[w].setAttribute("width",c.toFixed(1)),f+=c}s.sub.textContent=y(A(e)||(l?"0/"+l:""),Math.floor(s.room*1.1)),s.badge.textContent=(l?"\xD7"+l+" ":"")+(this.sel===t?"\u25BE":"\u25B8"),s.g.dataset.total=l,s.g.dataset.progress=(+r.Succeeded||0)+"/"+l}else{s.bar.setAttribute("width",(I(e.progress,o)*s.bw).toFixed(1)),s.g.dataset.progress=e.progress||"";let l=e.progress&&!/^0\/0$/.test(e.progress)&&o==="Running"?e.progress+" ":"",r=o==="Pending"&&e.message?e.message:"";s.sub.textContent=y(l+(r||n||o),Math.floor(s.room*1.1))}let h=[s.spec.label||t,o+(n?" \xB7 "+n:"")];e.progress&&h.push("progress "+e.progress),d&&h.push(A(e)),e.message&&h.push(e.message),s.title.textContent=h.join(`
`)}updateHead(){let t=this.workflow||{},s=v(t.phase);this.head.className="dfw-head dfw-p-"+s,this.el.dataset.phase=t.phase||"",this.el.dataset.progress=t.progress||"",this.hIcon.textContent=k[s],this.hName.textContent=t.name||t.id||"workflow",this.hName.title=t.id||"",this.hPhase.textContent=t.phase||"not submitted",this.hFill.style.width=(I(t.progress,s)*100).toFixed(1)+"%",this.hProg.textContent=t.progress||"",this.hDur.textContent=C(t),this.hMsg.textContent=t.message||"",this.hMsg.hidden=!t.message}onTick(){this.workflow&&this.workflow.phase==="Running"&&(this.hDur.textContent=C(this.workflow));for(let t of this.running)this.updateNode(t)}onMsg(t){if(!(!t||typeof t!="object"))if(t.type==="delta"){this.deltas++,this.el.dataset.deltas=this.deltas;for(let s in t.states||{})this.states[s]={...this.states[s]||{},...t.states[s]},this.updateNode(s);t.workflow&&(this.workflow={...this.workflow,...t.workflow},this.updateHead()),this.sel&&t.states&&this.sel in t.states&&this.scheduleAsk()}else t.type==="details"&&(this.cache.set(t.key,t),this.el.dataset.pushed=(+this.el.dataset.pushed||0)+(t.pushed?1:0),t.key===this.sel&&(this.details=t,this.renderPanel()))}ask(){let t=this.sel;if(!t)return;let s=this.nodes.get(t),e=s&&s.spec.kind==="fanout";this.lastAsk=Date.now(),this.model.send({type:e?"expand":"select",key:t})}scheduleAsk(){if(this.askTimer)return;let t=Math.max(0,this.lastAsk+H-Date.now());this.askTimer=setTimeout(()=>{this.askTimer=null,this.ask()},t)}select(t){let s=this.sel;if(clearTimeout(this.askTimer),this.askTimer=null,this.sel=s===t?null:t,this.details=this.sel&&this.cache.get(this.sel)||null,this.openRows=new Set,this.shown=M,s&&this.updateNode(s),!this.sel){this.panel.hidden=!0,this.panel.textContent="";return}this.updateNode(t),this.renderPanel(),this.ask()}renderPanel(){let t=this.sel,s=this.nodes.get(t),e=this.states[t]||{},o=v(e.phase),d=s&&s.spec.kind==="fanout",n=this.panel.scrollTop;this.panel.hidden=!1,this.panel.textContent="",this.panel.dataset.key=t,this.panel.append(a("div",{class:"dfw-ph dfw-p-"+o},a("span",{class:"dfw-ic",text:k[o]}),a("b",{text:s&&s.spec.label||t}),a("span",{class:"dfw-phase",text:e.phase||""}),a("button",{class:"dfw-x",title:"close",text:"\xD7",onclick:()=>this.select(t)})));let h=this.details;if(!h){this.panel.append(a("div",{class:"dfw-none",text:"loading\u2026"}));return}let l=h.nodes||[];if(d||l.length>1){let r=+h.total||+e.total||l.length;this.panel.append(a("div",{class:"dfw-sum",text:(A(e)||"")+(r?`  (${l.length} of ${r} listed)`:"")}));let f=a("div",{class:"dfw-list"});this.panel.append(f);let w=()=>{let g=f.childElementCount,x=Math.min(l.length,this.shown);for(let m=g;m<x;m++)f.append(this.row(l[m]));let u=l.length-x;c.hidden=u<=0,c.textContent=`show ${Math.min(M,u)} more (${u} left)`},c=a("button",{class:"dfw-more",onclick:()=>{this.shown+=M,w()}});this.panel.append(c),w(),l.length||f.append(a("div",{class:"dfw-none",text:"no children yet"}))}else l.length===1?this.panel.append(this.detail(l[0])):this.panel.append(a("div",{class:"dfw-none",text:"no details yet"}));this.panel.scrollTop=n}row(t){let s=v(t.phase),e=t.name||"",o=t.duration!=null?S(+t.duration,Number.isInteger(+t.duration)):"",d=a("div",{class:"dfw-row dfw-p-"+s,"data-name":e},a("span",{class:"dfw-ic",text:k[s]}),a("span",{class:"dfw-rn",text:e,title:e}),a("span",{class:"dfw-rd",text:o})),n=a("div",{class:"dfw-item"},d),h=()=>{this.openRows.has(e)?(this.openRows.delete(e),n.lastChild!==d&&n.lastChild.remove()):(this.openRows.add(e),n.append(this.detail(t)))};return d.addEventListener("click",h),this.openRows.has(e)&&n.append(this.detail(t)),n}detail(t){let s=v(t.phase),e=a("div",{class:"dfw-det"}),o=[t.phase||""];t.duration!=null&&o.push(S(+t.duration,Number.isInteger(+t.duration))),e.append(a("div",{class:"dfw-meta",text:o.filter(Boolean).join(" \xB7 ")})),t.message&&e.append(a("div",{class:"dfw-msg dfw-p-"+s,text:t.message})),e.append(a("div",{class:"dfw-sec",text:"inputs"}),B(t.inputs)),e.append(a("div",{class:"dfw-sec",text:"outputs"}),B(t.outputs)),e.append(a("div",{class:"dfw-sec",text:"log tail"}));let d=a("pre",{class:"dfw-log",text:t.log_tail||"(no log)"});return e.append(d),requestAnimationFrame(()=>d.scrollTop=d.scrollHeight),e}};function Y({model:i,el:t}){_();let s=new E(i,t);return()=>s.dispose()}var Q={render:Y};export{Q as default,C as duration,W as edgePath,S as fmtSeconds,I as fraction,Y as render};
