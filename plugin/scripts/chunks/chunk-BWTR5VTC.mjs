import{singleLine}from"./chunk-6A6QV3GX.mjs";function dryRunText(command,actions,describe){return[`Dry run of claude-parallel ${singleLine(command)}: nothing is changed. It would:`,...actions.map(a=>`  ${singleLine(describe(a))}`)].join(`
`)+`
`}export{dryRunText};
