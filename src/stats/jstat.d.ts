/** The part of jstat (no bundled types) that src/stats uses: distributions' quantiles and CDFs. */
declare module 'jstat' {
  interface JStat {
    studentt: { inv(p: number, dof: number): number; cdf(t: number, dof: number): number };
    normal: { inv(p: number, mean: number, sd: number): number; cdf(x: number, mean: number, sd: number): number };
  }
  const jStat: JStat;
  export default jStat;
}
