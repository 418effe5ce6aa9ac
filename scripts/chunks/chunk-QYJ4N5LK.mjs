import{stat}from"fs/promises";var pathExists=path=>stat(path).then(()=>!0,()=>!1),isFile=path=>stat(path).then(s=>s.isFile(),()=>!1);export{pathExists,isFile};
