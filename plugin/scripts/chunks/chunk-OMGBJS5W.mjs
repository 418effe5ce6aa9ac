import{realpathSync}from"fs";import{resolve}from"path";function helperPath(){let self=resolve(process.argv[1]??"");try{return realpathSync(self)}catch{return self}}export{helperPath};
