/** Tests receive reports through the simulation's report sink (it acknowledges like an aggregator). */
export { ReportSink as Collector } from '../../../host/simulate/report-sink.ts';
