function currentPhase(state,plan){return plan.phases.find(p=>{var _a;return((_a=state==null?void 0:state.phases[String(p.index)])==null?void 0:_a.syncedAt)===void 0})}export{currentPhase};
